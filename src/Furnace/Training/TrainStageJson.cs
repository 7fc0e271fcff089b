// train.json "stages[i]": what one stage trains ("projector", "lora", "lm"), for how long, and its overrides of the
// run-wide optimisation settings.
using System.Text.Json.Serialization;

namespace Furnace.Training;

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TrainStageJson
{
    public string? Name { get; init; }
    public List<string>? Train { get; init; }
    public int? Steps { get; init; }
    public double? Lr { get; init; }
    public double? ProjectorLr { get; init; }
    public double? LoraLr { get; init; }
    public double? LmLr { get; init; }
    public TrainLoraJson? Lora { get; init; }
    public bool? FreshProjector { get; init; }
    public int? Batch { get; init; }
    public int? Accumulation { get; init; }
    public double? Warmup { get; init; }
    public string? Schedule { get; init; }
    public double? MinLrRatio { get; init; }
    public double? Clip { get; init; }
    public double? WeightDecay { get; init; }
}
