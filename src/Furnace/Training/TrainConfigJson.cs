// train.json as written (every field optional here; TrainConfig.From validates and fills defaults). Unknown fields
// are errors, so a typo ("learning_rate") is reported instead of silently ignored. See docs/training.md.
using System.Text.Json.Serialization;

namespace Furnace.Training;

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TrainConfigJson
{
    public TrainModelJson? Model { get; init; }
    public TrainDataJson? Data { get; init; }
    public List<TrainStageJson?>? Stages { get; init; }
    public string? Out { get; init; }
    public ulong? Seed { get; init; }
    public int? Threads { get; init; }

    // defaults of every stage (a stage may override them)
    public int? Batch { get; init; }
    public int? Accumulation { get; init; }
    public double? Lr { get; init; }
    public double? Warmup { get; init; }
    public string? Schedule { get; init; }
    public double? MinLrRatio { get; init; }
    public double? Clip { get; init; }
    public double? WeightDecay { get; init; }
    public double? Beta1 { get; init; }
    public double? Beta2 { get; init; }
    public double? Eps { get; init; }

    public int? ValidateEvery { get; init; }
    public int? EvalSamples { get; init; }
    public int? SampleEvery { get; init; }
    public int? SampleImages { get; init; }
    public int? SampleMaxTokens { get; init; }
    public int? CheckpointEvery { get; init; }
    public int? Keep { get; init; }
}
