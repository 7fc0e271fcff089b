// CLIP's symmetric contrastive loss (Radford et al. 2021, Figure 3; HF modeling_clip clip_loss; OpenCLIP ClipLoss):
//   a = normalize(image embeddings), b = normalize(text embeddings)   (n, d) each, row i of both is a matching pair
//   logits = exp(t) · a bᵀ                                            t = log temperature, learnable
//   loss = (CE(logits, arange n) + CE(logitsᵀ, arange n)) / 2
// t starts at ln(1/0.07) and is clamped to [0, ln 100] after every optimiser step, as CLIP's training does.
using Furnace.Tensors.Autograd;

namespace Furnace.Training.Losses;

public static class InfoNce
{
    public static readonly float InitialLogitScale = MathF.Log(1f / 0.07f);

    public static readonly float MaxLogitScale = MathF.Log(100f);

    /// <summary>A fresh learnable log-temperature (1,) at ln(1/0.07).</summary>
    public static Tensor LogitScale(string name = "logit_scale") => Tensor.Parameter(name, [1], [InitialLogitScale]);

    /// <summary>Clamps the log-temperature into [0, ln 100] in place (call after each optimiser step).</summary>
    public static void Clamp(Tensor logitScale) => logitScale.Data[0] = Math.Clamp(logitScale.Data[0], 0f, MaxLogitScale);

    /// <summary>images, texts (n, d) -> the symmetric loss (1,).</summary>
    public static Tensor Loss(Tape tape, Tensor images, Tensor texts, Tensor logitScale)
    {
        if (images.Rank != 2 || texts.Rank != 2 || images.Shape[0] != texts.Shape[0] || images.Shape[1] != texts.Shape[1])
            throw new ArgumentException($"image embeddings {images} and text embeddings {texts} must both be (n, d)");
        int n = images.Shape[0];
        var diagonal = new int[n];
        for (int i = 0; i < n; i++) diagonal[i] = i;
        Tensor a = tape.L2Normalize(images), b = tape.L2Normalize(texts);
        Tensor logits = tape.ScaleBy(tape.MatMul(a, tape.Transpose(b)), tape.Exp(logitScale));
        Tensor perImage = tape.CrossEntropy(logits, diagonal);
        Tensor perText = tape.CrossEntropy(tape.Transpose(logits), diagonal);
        return tape.Scale(tape.Add(perImage, perText), 0.5f);
    }
}
