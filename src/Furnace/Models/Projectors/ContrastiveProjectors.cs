// A projector pair trained into a shared embedding space with CLIP's contrastive objective (Radford et al. 2021;
// the LiT / "locked image tuning" setting when both towers are frozen feature extractors): frozen image features
// and frozen text features each go through their own projector, and the symmetric InfoNCE loss with a learnable
// temperature pulls matching pairs together. Parameters: "image_projector.*", "text_projector.*", "logit_scale".
// This class holds the parameters and the forward pass (Embed); the fresh initialisation, the loss, the optimiser
// groups and the temperature clamp live in Training (ContrastiveTraining, InfoNce).
using Furnace.Formats.SafeTensors;
using Furnace.Tensors.Autograd;

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

    public IReadOnlyList<Tensor> Parameters => Image.Parameters.Concat(Text.Parameters).Append(LogitScale).ToList();

    /// <summary>Shared-space embeddings (n, SharedDim) of image features (n, imageDim) and text features (n, textDim).</summary>
    public (Tensor Images, Tensor Texts) Embed(Tape tape, float[] imageFeatures, float[] textFeatures, int n) =>
        (Image.Forward(tape, new Tensor([n, Image.InDim], imageFeatures)), Text.Forward(tape, new Tensor([n, Text.InDim], textFeatures)));

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
