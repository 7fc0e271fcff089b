// The shapes of learning-rate schedule after warmup (the names of HF transformers' SchedulerType).
namespace Furnace.Training;

public enum ScheduleKind
{
    /// <summary>get_cosine_with_min_lr_schedule_with_warmup: half a cosine from 1 down to MinRatio (0: get_cosine_schedule_with_warmup).</summary>
    Cosine,

    /// <summary>get_linear_schedule_with_warmup: straight down to 0 at the last step.</summary>
    Linear,

    /// <summary>get_constant_schedule_with_warmup: 1 after warmup.</summary>
    Constant,
}
