// Source-generated System.Text.Json metadata for the training files (checkpoint state), snake_case like HF's.
using System.Text.Json.Serialization;

namespace Furnace.Training;

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CheckpointStateJson))]
internal sealed partial class TrainingJsonContext : JsonSerializerContext;
