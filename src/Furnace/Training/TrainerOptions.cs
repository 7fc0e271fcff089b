// How a Trainer runs one stage: optimiser steps, micro-batches per step, clipping, schedule, the AdamW constants,
// and how often it validates and checkpoints. Steps are absolute: a resumed run continues up to Steps.
namespace Furnace.Training;

public sealed record TrainerOptions
{
    public int Steps { get; init; } = 100;

    /// <summary>Micro-batches whose gradients are summed into one optimiser step (each loss scaled by 1/N).</summary>
    public int Accumulation { get; init; } = 1;

    /// <summary>Global gradient-norm limit (torch clip_grad_norm_); null = no clipping (the norm is still reported).</summary>
    public double? ClipNorm { get; init; } = 1.0;

    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>Validate every K steps (0 = never during the run); the last step always validates when there is validation data.</summary>
    public int ValidateEvery { get; init; }

    /// <summary>Checkpoint every K steps (0 = only the last step); needs a CheckpointStore.</summary>
    public int CheckpointEvery { get; init; }

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.999;

    public double Eps { get; init; } = 1e-8;

    /// <summary>Stop with an error when a step's loss or gradient norm is NaN or infinite (else the step is skipped).</summary>
    public bool StopOnNonFinite { get; init; } = true;

    public TrainerOptions Validated()
    {
        if (Steps < 1) throw new FurnaceException($"steps {Steps} must be at least 1");
        if (Accumulation < 1) throw new FurnaceException($"accumulation {Accumulation} must be at least 1");
        if (ClipNorm is { } c && !(c > 0)) throw new FurnaceException($"clip {c} must be > 0 (leave it out for no clipping)");
        if (ValidateEvery < 0) throw new FurnaceException($"validate every {ValidateEvery} must be >= 0");
        if (CheckpointEvery < 0) throw new FurnaceException($"checkpoint every {CheckpointEvery} must be >= 0");
        if (Beta1 is < 0 or >= 1 || Beta2 is < 0 or >= 1) throw new FurnaceException($"AdamW betas ({Beta1}, {Beta2}) must be in [0, 1)");
        if (!(Eps >= 0)) throw new FurnaceException($"AdamW eps {Eps} must be >= 0");
        Schedule.Validated();
        return this;
    }
}
