// Source-generated System.Text.Json metadata for CLIP config.json files (no reflection at load).
using System.Text.Json.Serialization;

namespace Furnace.Formats.HfConfig;

[JsonSourceGenerationOptions(ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(HfClipConfig))]
[JsonSerializable(typeof(HfClipTowerConfig))]
internal sealed partial class HfClipConfigJsonContext : JsonSerializerContext
{
}
