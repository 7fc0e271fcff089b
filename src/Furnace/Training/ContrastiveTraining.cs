// Training of a ContrastiveProjectors pair with CLIP's objective (Radford et al. 2021): the fresh pair (torch.nn.Linear
// initialisation, log temperature ln(1/0.07)), the symmetric InfoNCE loss of the pair's shared-space embeddings, the
// optimiser group and the temperature clamp after each step. The pair itself keeps only its forward pass (Embed).
using Furnace.Models.Projectors;
using Furnace.Tensors.Autograd;
using Furnace.Training.Losses;

namespace Furnace.Training;

public static class ContrastiveTraining
{
    /// <summary>Fresh projectors (torch.nn.Linear initialisation) and t = ln(1/0.07).</summary>
    public static ContrastiveProjectors Initial(ProjectorKind kind, int imageDim, int textDim, int sharedDim, int seed) =>
        new(ProjectorTrainable.Initial(kind, imageDim, sharedDim, seed, "image_projector."),
            ProjectorTrainable.Initial(kind, textDim, sharedDim, seed, "text_projector."),
            InfoNce.LogitScale());

    /// <summary>One optimiser group "projector" (weight decay on matrices only, by CLIP's convention).</summary>
    public static IReadOnlyList<ParameterGroup> ParameterGroups(this ContrastiveProjectors pair, float lr, float weightDecay = 0f)
    {
        ArgumentNullException.ThrowIfNull(pair);
        var parameters = pair.Parameters;
        var matrices = parameters.Where(p => p.Rank >= 2).ToList();
        var rest = parameters.Where(p => p.Rank < 2).ToList();
        if (weightDecay == 0) return [new ParameterGroup("projector", parameters) { LearningRate = lr }];
        return [new ParameterGroup("projector", matrices) { LearningRate = lr, WeightDecay = weightDecay },
                new ParameterGroup("projector.no_decay", rest) { LearningRate = lr }];
    }

    /// <summary>The symmetric InfoNCE loss (1,) of n matching pairs (row i of both is pair i).</summary>
    public static Tensor Loss(this ContrastiveProjectors pair, Tape tape, float[] imageFeatures, float[] textFeatures, int n)
    {
        ArgumentNullException.ThrowIfNull(pair);
        var (a, b) = pair.Embed(tape, imageFeatures, textFeatures, n);
        return InfoNce.Loss(tape, a, b, pair.LogitScale);
    }

    /// <summary>Call after every optimiser step: clamps the log temperature into [0, ln 100] as CLIP does.</summary>
    public static void AfterStep(this ContrastiveProjectors pair)
    {
        ArgumentNullException.ThrowIfNull(pair);
        InfoNce.Clamp(pair.LogitScale);
    }
}
