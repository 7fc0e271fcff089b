// The learning-rate multiplier of each optimiser step, as HF transformers' LambdaLR schedules
// (transformers/optimization.py: _get_cosine_schedule_with_warmup_lr_lambda with num_cycles = 0.5,
// _get_cosine_with_min_lr_schedule_with_warmup_lr_lambda, _get_linear_schedule_with_warmup_lr_lambda,
// _get_constant_schedule_with_warmup_lr_lambda). Step s counts completed optimiser steps, so the first update
// runs at Multiplier(0) — 0 when there is warmup, exactly as HF's Trainer.
namespace Furnace.Training;

public sealed record LearningRateSchedule(ScheduleKind Kind, int WarmupSteps, int TotalSteps, double MinRatio = 0)
{
    public static LearningRateSchedule Constant => new(ScheduleKind.Constant, 0, 1);

    public LearningRateSchedule Validated()
    {
        if (WarmupSteps < 0) throw new FurnaceException($"warmup steps {WarmupSteps} must be >= 0");
        if (TotalSteps < 1) throw new FurnaceException($"total steps {TotalSteps} must be >= 1");
        if (MinRatio is < 0 or > 1 || double.IsNaN(MinRatio)) throw new FurnaceException($"min lr ratio {MinRatio} must be between 0 and 1");
        return this;
    }

    public double Multiplier(int step)
    {
        if (step < WarmupSteps) return (double)step / Math.Max(1, WarmupSteps);
        double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        switch (Kind)
        {
            case ScheduleKind.Constant:
                return 1;
            case ScheduleKind.Linear:
                return Math.Max(0, (double)(TotalSteps - step) / Math.Max(1, TotalSteps - WarmupSteps));
            default:
                double factor = 0.5 * (1 + Math.Cos(Math.PI * 0.5 * 2 * progress));
                return Math.Max(0, factor * (1 - MinRatio) + MinRatio);
        }
    }

    public static ScheduleKind ParseKind(string text) => text.ToLowerInvariant() switch
    {
        "cosine" => ScheduleKind.Cosine,
        "linear" => ScheduleKind.Linear,
        "constant" => ScheduleKind.Constant,
        _ => throw new FurnaceException($"unknown schedule '{text}' (cosine, linear or constant)"),
    };
}
