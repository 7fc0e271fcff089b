// Source-generated System.Text.Json metadata for PEFT's adapter_config.json (no reflection at load; trimming/AOT safe).
// Comments and trailing commas are tolerated: hand-edited configs have them.
using System.Text.Json.Serialization;

namespace Furnace.Models.Lora;

[JsonSourceGenerationOptions(ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(PeftAdapterConfigJson))]
internal sealed partial class LoraJsonContext : JsonSerializerContext
{
}
