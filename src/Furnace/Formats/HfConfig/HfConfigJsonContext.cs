// Source-generated System.Text.Json metadata for config.json (no reflection at load; trimming/AOT safe).
// Comments and trailing commas are tolerated: hand-edited configs have them.
using System.Text.Json.Serialization;

namespace Furnace.Formats.HfConfig;

[JsonSourceGenerationOptions(ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(HfModelConfig))]
internal sealed partial class HfConfigJsonContext : JsonSerializerContext
{
}
