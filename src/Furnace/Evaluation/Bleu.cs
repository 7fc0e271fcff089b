// BLEU (Papineni et al. 2002) exactly as coco-caption computes it (pycocoevalcap/bleu/bleu_scorer.py, the
// "closest" option used by Bleu.compute_score):
//  - words are str.split() of the tokenized caption; n-gram counts of the candidate are clipped by the maximum
//    count of that n-gram in any one reference;
//  - the reference length of an image is the one closest to the candidate length, ties going to the shorter;
//  - precisions carry the constants tiny = 1e-15 (numerator) and small = 1e-9 (denominator), so BLEU-n is
//    prod_k ((correct_k + tiny) / (guess_k + small)) ^ (1/n), never exactly zero;
//  - brevity penalty exp(1 - 1/ratio) applies when ratio = (testlen + tiny) / (reflen + small) < 1, which is
//    also the case (by ~1e-10) when the lengths are equal;
//  - the corpus score pools counts and lengths over images; per-image scores use the same formula per image.
namespace Furnace.Evaluation;

public static class Bleu
{
    private const double Tiny = 1e-15;
    private const double Small = 1e-9;

    /// <param name="candidates">One tokenized caption per image.</param>
    /// <param name="references">The tokenized references of each image, aligned with candidates.</param>
    /// <param name="maxN">Highest n-gram order (coco-caption uses 4).</param>
    public static BleuScore Compute(IReadOnlyList<string> candidates, IReadOnlyList<IReadOnlyList<string>> references, int maxN = 4)
    {
        ScorerInput.Check(candidates, references);
        if (maxN is < 1 or > NGram.MaxOrder) throw new ArgumentOutOfRangeException(nameof(maxN), maxN, $"BLEU order must be 1..{NGram.MaxOrder}");

        var vocab = new Vocabulary();
        long totalTest = 0, totalRef = 0;
        var totalGuess = new long[maxN];
        var totalCorrect = new long[maxN];
        var perImage = new IReadOnlyList<double>[candidates.Count];
        var guess = new long[maxN];
        var correct = new long[maxN];

        for (int img = 0; img < candidates.Count; img++)
        {
            // cook_refs: reference lengths and, per n-gram, its largest count in a single reference.
            var refs = references[img];
            var refLengths = new int[refs.Count];
            var maxCounts = new Dictionary<NGram, int>();
            for (int r = 0; r < refs.Count; r++)
            {
                var words = vocab.SplitWhitespace(refs[r]);
                refLengths[r] = words.Length;
                foreach (var (ngram, count) in NGram.Count(words, maxN))
                    if (count > maxCounts.GetValueOrDefault(ngram)) maxCounts[ngram] = count;
            }

            // cook_test
            var test = vocab.SplitWhitespace(candidates[img]);
            int testLen = test.Length;
            int refLen = ClosestLength(refLengths, testLen);
            Array.Clear(correct);
            for (int k = 0; k < maxN; k++) guess[k] = Math.Max(0, testLen - k);
            foreach (var (ngram, count) in NGram.Count(test, maxN))
                correct[ngram.N - 1] += Math.Min(maxCounts.GetValueOrDefault(ngram), count);

            totalTest += testLen;
            totalRef += refLen;
            for (int k = 0; k < maxN; k++)
            {
                totalGuess[k] += guess[k];
                totalCorrect[k] += correct[k];
            }
            perImage[img] = Scores(guess, correct, testLen, refLen);
        }

        return new BleuScore(Scores(totalGuess, totalCorrect, totalTest, totalRef), perImage, totalTest, totalRef, totalGuess, totalCorrect);
    }

    // min over (|l - testLen|, l): the closest length, the shorter one on a tie.
    private static int ClosestLength(int[] lengths, int testLen)
    {
        int best = lengths[0];
        foreach (int l in lengths)
        {
            int d = Math.Abs(l - testLen), bd = Math.Abs(best - testLen);
            if (d < bd || (d == bd && l < best)) best = l;
        }
        return best;
    }

    private static double[] Scores(long[] guess, long[] correct, long testLen, long refLen)
    {
        int maxN = guess.Length;
        var scores = new double[maxN];
        double product = 1.0;
        for (int k = 0; k < maxN; k++)
        {
            product *= (correct[k] + Tiny) / (guess[k] + Small);
            scores[k] = Math.Pow(product, 1.0 / (k + 1));
        }
        double ratio = (testLen + Tiny) / (refLen + Small);
        if (ratio < 1)
        {
            double penalty = Math.Exp(1 - 1 / ratio);
            for (int k = 0; k < maxN; k++) scores[k] *= penalty;
        }
        return scores;
    }
}
