// A set of trainable tensors that share optimiser settings (LLaVA recipes give the projector, LoRA adapters and full
// LM weights their own learning rates).
//
// CONTRACT FILE (issue 5): models hand their parameters to the trainer as groups; keep this shape stable.
using Furnace.Tensors.Autograd;

namespace Furnace.Training;

public sealed record ParameterGroup(string Name, IReadOnlyList<Tensor> Parameters)
{
    /// <summary>Peak learning rate of this group (the schedule scales it).</summary>
    public float LearningRate { get; init; } = 1e-3f;

    /// <summary>Decoupled (AdamW) weight decay; 0 for norms and biases by convention.</summary>
    public float WeightDecay { get; init; }
}
