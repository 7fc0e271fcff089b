// Raw record of one line of a JSONL caption dataset: {"image": "imgs/1.jpg", "captions": ["...", "..."]}, with an
// optional "id" (number or string) and optional Chinese references "captions_zh" (the data builders write them where
// a real Chinese name exists). Validated by JsonlCaptionsReader.
using System.Text.Json.Serialization;

namespace Furnace.Data;

internal sealed record CaptionLineJson(
    [property: JsonPropertyName("id"), JsonConverter(typeof(ImageIdConverter))] string? Id,
    [property: JsonPropertyName("image")] string? Image,
    [property: JsonPropertyName("captions")] List<string?>? Captions,
    [property: JsonPropertyName("captions_zh")] List<string?>? CaptionsZh = null);
