// One validated stage of a training run: which parts train, with which learning rates, for how many steps, and the
// optimisation settings after the run-wide defaults and the stage's overrides are combined.
using Furnace.Models.Llama;
using Furnace.Models.Lora;

namespace Furnace.Training;

public sealed record TrainStage
{
    public required string Name { get; init; }
    public bool TrainProjector { get; init; }
    public LlamaTraining Language { get; init; }
    public LoraConfig? Lora { get; init; }

    /// <summary>Start from a freshly initialised projector (LLaVA stage 1) instead of the base model's.</summary>
    public bool FreshProjector { get; init; }

    public int Steps { get; init; }
    public float ProjectorLr { get; init; }
    public float LoraLr { get; init; }
    public float LmLr { get; init; }
    public int Batch { get; init; }
    public int Accumulation { get; init; }
    public int WarmupSteps { get; init; }
    public ScheduleKind Schedule { get; init; }
    public double MinLrRatio { get; init; }
    public double? Clip { get; init; }
    public float WeightDecay { get; init; }

    public string Parts => string.Join(" + ", new[] { TrainProjector ? "projector" : null, Language == LlamaTraining.Lora ? "LoRA" : Language == LlamaTraining.Full ? "LM" : null }.OfType<string>());
}
