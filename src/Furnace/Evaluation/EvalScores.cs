// The corpus scores of an eval report, under coco-caption's names (cocoEval.eval's keys), plus the optional
// model-based scores (CLIPScore/RefCLIPScore under clipscore.py's names) and the phrase accuracies (PhraseAccuracy:
// count, colour, position), absent from the JSON when not computed.
using System.Text.Json.Serialization;

namespace Furnace.Evaluation;

public sealed record EvalScores(
    [property: JsonPropertyName("Bleu_1")] double Bleu1,
    [property: JsonPropertyName("Bleu_2")] double Bleu2,
    [property: JsonPropertyName("Bleu_3")] double Bleu3,
    [property: JsonPropertyName("Bleu_4")] double Bleu4,
    [property: JsonPropertyName("ROUGE_L")] double RougeL,
    [property: JsonPropertyName("CIDEr")] double CiderD,
    [property: JsonPropertyName("CLIPScore")] double? ClipScore = null,
    [property: JsonPropertyName("RefCLIPScore")] double? RefClipScore = null,
    [property: JsonPropertyName("CountAcc")] double? CountAccuracy = null,
    [property: JsonPropertyName("ColourAcc")] double? ColourAccuracy = null,
    [property: JsonPropertyName("PositionAcc")] double? PositionAccuracy = null)
{
    public static EvalScores From(CaptionScores s) => new(s.Bleu1, s.Bleu2, s.Bleu3, s.Bleu4, s.RougeL, s.CiderD);
}
