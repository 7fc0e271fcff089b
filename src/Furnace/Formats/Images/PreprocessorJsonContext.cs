// Source-generated System.Text.Json metadata for preprocessor_config.json (and LLaVA's config.json aspect key).
// Comments and trailing commas are tolerated: hand-edited configs have them.
using System.Text.Json.Serialization;

namespace Furnace.Formats.Images;

[JsonSourceGenerationOptions(ReadCommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(PreprocessorConfigJson))]
internal sealed partial class PreprocessorJsonContext : JsonSerializerContext
{
}
