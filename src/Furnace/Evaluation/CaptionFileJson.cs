// Raw record of one entry of the caption files `furnace eval` reads as JSON arrays: coco-caption's results format
// ({"image_id", "caption"}, what cocoRes = coco.loadRes(file) takes) and the fakecap format of
// shared/fixtures/metrics ({"image_id", "test", "refs"}: a prediction and its references). Validated by
// PredictionFile and ReferenceFile.
using System.Text.Json.Serialization;
using Furnace.Data;

namespace Furnace.Evaluation;

internal sealed record CaptionFileJson(
    [property: JsonPropertyName("image_id"), JsonConverter(typeof(ImageIdConverter))] string? ImageId,
    [property: JsonPropertyName("caption")] string? Caption,
    [property: JsonPropertyName("test")] string? Test,
    [property: JsonPropertyName("refs")] List<string?>? Refs);
