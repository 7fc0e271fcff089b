// What a LLaVA training run trains (LLaVA-1.5's recipes): stage 1 pretraining trains a fresh projector on a frozen
// decoder; stage 2 fine-tunes the projector with the decoder fully trainable or LoRA-adapted.
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Models.Projectors;

namespace Furnace.Models.Vlm;

public sealed record LlavaTrainingOptions
{
    public LlamaTraining Language { get; init; } = LlamaTraining.Frozen;

    /// <summary>The adapter to create for LlamaTraining.Lora (targets, rank, alpha, dropout).</summary>
    public LoraConfig? Lora { get; init; }

    /// <summary>An existing adapter to continue training (its module paths start with "language_model."); overrides Lora.</summary>
    public LoraAdapter? Adapter { get; init; }

    /// <summary>Whether the projector's parameters require gradients (false: a frozen projector, e.g. LoRA-only runs).</summary>
    public bool TrainProjector { get; init; } = true;

    /// <summary>Start from a freshly initialised projector (stage 1) instead of the checkpoint's.</summary>
    public bool FreshProjector { get; init; }

    /// <summary>Kind of a fresh projector; null keeps the checkpoint's kind.</summary>
    public ProjectorKind? ProjectorKind { get; init; }

    /// <summary>Seeds the fresh projector and LoRA A initialisation.</summary>
    public int Seed { get; init; }
}
