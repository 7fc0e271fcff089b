// Source-generated System.Text.Json metadata for the dataset files (no reflection at load).
using System.Text.Json.Serialization;

namespace Furnace.Data;

[JsonSourceGenerationOptions(AllowTrailingCommas = true)]
[JsonSerializable(typeof(CocoCaptionsJson))]
[JsonSerializable(typeof(CaptionLineJson))]
[JsonSerializable(typeof(DataPosition))]
internal sealed partial class DataJsonContext : JsonSerializerContext;
