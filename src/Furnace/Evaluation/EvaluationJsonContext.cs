// Source-generated System.Text.Json metadata for the files of `furnace eval`: the caption files it reads and the
// report it writes (indented, null fields left out).
using System.Text.Json.Serialization;

namespace Furnace.Evaluation;

[JsonSourceGenerationOptions(AllowTrailingCommas = true, WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(List<CaptionFileJson?>))]
[JsonSerializable(typeof(EvalReport))]
internal sealed partial class EvaluationJsonContext : JsonSerializerContext;
