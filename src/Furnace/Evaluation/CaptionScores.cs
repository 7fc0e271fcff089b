// The coco-caption metric set for one image or for a whole corpus (the keys coco-caption prints:
// Bleu_1..Bleu_4, ROUGE_L, CIDEr — the latter being CIDEr-D).
namespace Furnace.Evaluation;

public sealed record CaptionScores(double Bleu1, double Bleu2, double Bleu3, double Bleu4, double RougeL, double CiderD)
{
    /// <summary>The scores under coco-caption's names, in its print order.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Named() =>
    [
        new("Bleu_1", Bleu1), new("Bleu_2", Bleu2), new("Bleu_3", Bleu3), new("Bleu_4", Bleu4),
        new("ROUGE_L", RougeL), new("CIDEr", CiderD),
    ];
}
