// Raw records of a COCO captions file (captions_train2017.json and friends). Only the fields captioning needs are
// read; "info", "licenses", annotation ids, image sizes and URLs are ignored. Validated by CocoCaptionsReader.
using System.Text.Json.Serialization;

namespace Furnace.Data;

internal sealed record CocoCaptionsJson(
    [property: JsonPropertyName("images")] List<CocoImageJson?>? Images,
    [property: JsonPropertyName("annotations")] List<CocoCaptionJson?>? Annotations);

internal sealed record CocoImageJson(
    [property: JsonPropertyName("id"), JsonConverter(typeof(ImageIdConverter))] string? Id,
    [property: JsonPropertyName("file_name")] string? FileName);

internal sealed record CocoCaptionJson(
    [property: JsonPropertyName("image_id"), JsonConverter(typeof(ImageIdConverter))] string? ImageId,
    [property: JsonPropertyName("caption")] string? Caption);
