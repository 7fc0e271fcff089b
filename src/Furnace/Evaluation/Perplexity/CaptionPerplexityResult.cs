// Caption perplexity over a caption set: exp(Σ NLL / Σ tokens) over every reference caption (CaptionPerplexity).
namespace Furnace.Evaluation.Perplexity;

public sealed record CaptionPerplexityResult(double Ppl, double NllMean, int Tokens, int Captions, int Images)
{
    public static CaptionPerplexityResult From(IReadOnlyCollection<CaptionNll> captions)
    {
        if (captions.Count == 0) throw new FurnaceException("no captions scored");
        double nll = captions.Sum(c => c.Nll);
        int tokens = captions.Sum(c => c.Tokens);
        double mean = nll / tokens;
        return new CaptionPerplexityResult(Math.Exp(mean), mean, tokens, captions.Count, captions.Select(c => c.ImageId).Distinct(StringComparer.Ordinal).Count());
    }
}
