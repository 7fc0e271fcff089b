// Source-generated System.Text.Json metadata for the training files (checkpoint state), snake_case like HF's.
using System.Text.Json.Serialization;

namespace Furnace.Training;

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower, AllowTrailingCommas = true,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CheckpointStateJson))]
[JsonSerializable(typeof(TrainConfigJson))]
[JsonSerializable(typeof(TrainStageSummaryJson))]
[JsonSerializable(typeof(Furnace.Data.DataPosition))]
internal sealed partial class TrainingJsonContext : JsonSerializerContext;
