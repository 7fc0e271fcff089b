// A projector pair trained into a shared embedding space with CLIP's contrastive objective (Radford et al. 2021;
// the LiT / "locked image tuning" setting when both towers are frozen feature extractors): frozen image features
// and frozen text features each go through their own projector, and the symmetric InfoNCE loss with a learnable
// temperature pulls matching pairs together. Parameters: "image_projector.*", "text_projector.*", "logit_scale".
using Furnace.Formats.SafeTensors;
using Furnace.Tensors.Autograd;
using Furnace.Training;
using Furnace.Training.Losses;

namespace Furnace.Models.Projectors;

public sealed class ContrastiveProjectors
{
    public ContrastiveProjectors(ProjectorTrainable image, ProjectorTrainable text, Tensor logitScale)
    {
        if (image.OutDim != text.OutDim) throw new ArgumentException($"image projector gives {image.OutDim}-d, text projector {text.OutDim}-d; the shared space needs one width");
        if (logitScale.Length != 1) throw new ArgumentException($"logit scale {logitScale} is not a scalar");
        Image = image;
        Text = text;
        LogitScale = logitScale;
    }

    public ProjectorTrainable Image { get; }

    public ProjectorTrainable Text { get; }

    /// <summary>The log temperature t (1,); logits are exp(t) · cosine similarities.</summary>
    public Tensor LogitScale { get; }

    public int SharedDim => Image.OutDim;

    /// <summary>Fresh projectors (torch.nn.Linear initialisation) and t = ln(1/0.07).</summary>
    public static ContrastiveProjectors Initial(ProjectorKind kind, int imageDim, int textDim, int sharedDim, int seed) =>
        new(ProjectorTrainable.Initial(kind, imageDim, sharedDim, seed, "image_projector."),
            ProjectorTrainable.Initial(kind, textDim, sharedDim, seed, "text_projector."),
            InfoNce.LogitScale());

    public IReadOnlyList<Tensor> Parameters => Image.Parameters.Concat(Text.Parameters).Append(LogitScale).ToList();

    /// <summary>One optimiser group "projector" (weight decay on matrices only, by CLIP's convention).</summary>
    public IReadOnlyList<ParameterGroup> ParameterGroups(float lr, float weightDecay = 0f)
    {
        var matrices = Parameters.Where(p => p.Rank >= 2).ToList();
        var rest = Parameters.Where(p => p.Rank < 2).ToList();
        if (weightDecay == 0) return [new ParameterGroup("projector", Parameters) { LearningRate = lr }];
        return [new ParameterGroup("projector", matrices) { LearningRate = lr, WeightDecay = weightDecay },
                new ParameterGroup("projector.no_decay", rest) { LearningRate = lr }];
    }

    /// <summary>Shared-space embeddings (n, SharedDim) of image features (n, imageDim) and text features (n, textDim).</summary>
    public (Tensor Images, Tensor Texts) Embed(Tape tape, float[] imageFeatures, float[] textFeatures, int n) =>
        (Image.Forward(tape, new Tensor([n, Image.InDim], imageFeatures)), Text.Forward(tape, new Tensor([n, Text.InDim], textFeatures)));

    /// <summary>The symmetric InfoNCE loss (1,) of n matching pairs (row i of both is pair i).</summary>
    public Tensor Loss(Tape tape, float[] imageFeatures, float[] textFeatures, int n)
    {
        var (a, b) = Embed(tape, imageFeatures, textFeatures, n);
        return InfoNce.Loss(tape, a, b, LogitScale);
    }

    /// <summary>Call after every optimiser step: clamps the log temperature into [0, ln 100] as CLIP does.</summary>
    public void AfterStep() => InfoNce.Clamp(LogitScale);

    /// <summary>All parameters in one safetensors file under their names.</summary>
    public void Save(string path)
    {
        var w = new SafeTensorsWriter().AddMetadata("format", "pt");
        Image.AddTo(w);
        Text.AddTo(w);
        w.Add(LogitScale.Name ?? "logit_scale", [1], LogitScale.Data);
        w.Write(path);
    }
}
