// One image of an eval report: the prediction as given and its scores (cocoEval.evalImgs entries, plus the caption;
// CLIPScore/RefCLIPScore only when computed).
using System.Text.Json.Serialization;

namespace Furnace.Evaluation;

public sealed record EvalImageScores(
    [property: JsonPropertyName("image_id")] string ImageId,
    [property: JsonPropertyName("caption")] string Caption,
    [property: JsonPropertyName("Bleu_1")] double Bleu1,
    [property: JsonPropertyName("Bleu_2")] double Bleu2,
    [property: JsonPropertyName("Bleu_3")] double Bleu3,
    [property: JsonPropertyName("Bleu_4")] double Bleu4,
    [property: JsonPropertyName("ROUGE_L")] double RougeL,
    [property: JsonPropertyName("CIDEr")] double CiderD,
    [property: JsonPropertyName("CLIPScore")] double? ClipScore = null,
    [property: JsonPropertyName("RefCLIPScore")] double? RefClipScore = null);
