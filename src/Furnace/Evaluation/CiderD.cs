// CIDEr-D (Vedantam et al. 2015), the variant coco-caption reports as "CIDEr" (pycocoevalcap/cider/
// cider_scorer.py, n = 4, sigma = 6):
//  - words are str.split(); each sentence becomes, per order n = 1..4, a vector of tf * idf with
//    idf = log(number of images) - log(max(1, df)), df = number of evaluated images whose references contain
//    the n-gram (so the idf depends on the evaluated set: a single image scores 0);
//  - similarity with one reference, per order: sum over candidate n-grams of min(v_cand, v_ref) * v_ref
//    (the clipping), divided by |v_cand| |v_ref| when both are non-zero, times the length penalty
//    exp(-(l_cand - l_ref)^2 / (2 sigma^2)) where a sentence's "length" is its number of bigrams (the
//    reference code counts the term frequencies of order-2 n-grams);
//  - image score = 10 * mean over orders of (sum over references) / number of references;
//    corpus score = mean of image scores.
namespace Furnace.Evaluation;

public static class CiderD
{
    private const int Order = 4;
    private const double Sigma = 6.0;

    /// <param name="candidates">One tokenized caption per image.</param>
    /// <param name="references">The tokenized references of each image, aligned with candidates.</param>
    public static MetricScore Compute(IReadOnlyList<string> candidates, IReadOnlyList<IReadOnlyList<string>> references)
    {
        ScorerInput.Check(candidates, references);
        var vocab = new Vocabulary();
        var testCounts = new Dictionary<NGram, int>[candidates.Count];
        var refCounts = new Dictionary<NGram, int>[candidates.Count][];
        var documentFrequency = new Dictionary<NGram, int>();
        var seen = new HashSet<NGram>();
        for (int img = 0; img < candidates.Count; img++)
        {
            testCounts[img] = NGram.Count(vocab.SplitWhitespace(candidates[img]), Order);
            var refs = references[img];
            refCounts[img] = new Dictionary<NGram, int>[refs.Count];
            seen.Clear();
            for (int r = 0; r < refs.Count; r++)
            {
                refCounts[img][r] = NGram.Count(vocab.SplitWhitespace(refs[r]), Order);
                foreach (var ngram in refCounts[img][r].Keys)
                    if (seen.Add(ngram)) documentFrequency[ngram] = documentFrequency.GetValueOrDefault(ngram) + 1;
            }
        }

        // idf pieces: log(max(1, df)) once per distinct reference n-gram; candidate-only n-grams have df 0 -> 0.
        double refLen = Math.Log(candidates.Count);
        var logDf = new Dictionary<NGram, double>(documentFrequency.Count);
        foreach (var (ngram, df) in documentFrequency) logDf[ngram] = Math.Log(Math.Max(1.0, df));

        var scores = new double[candidates.Count];
        double sum = 0;
        var perOrder = new double[Order];
        var candNorms = new double[Order];
        var refNorms = new double[Order];
        var dots = new double[Order];
        var candWeights = new Dictionary<NGram, double>();
        for (int img = 0; img < candidates.Count; img++)
        {
            // counts2vec of the candidate: tf-idf weights, per-order norms, bigram-count length.
            candWeights.Clear();
            Array.Clear(candNorms);
            int candLength = 0;
            foreach (var (ngram, tf) in testCounts[img])
            {
                double w = tf * (refLen - logDf.GetValueOrDefault(ngram));
                candWeights[ngram] = w;
                candNorms[ngram.N - 1] += w * w;
                if (ngram.N == 2) candLength += tf;
            }
            for (int n = 0; n < Order; n++) candNorms[n] = Math.Sqrt(candNorms[n]);

            Array.Clear(perOrder);
            foreach (var counts in refCounts[img])
            {
                // Same for the reference; the clipped dot product sum min(v_cand, v_ref) * v_ref only has terms
                // where both are present, so it is accumulated while walking the reference's n-grams.
                Array.Clear(refNorms);
                Array.Clear(dots);
                int refLength = 0;
                foreach (var (ngram, tf) in counts)
                {
                    double w = tf * (refLen - logDf[ngram]);
                    int n = ngram.N - 1;
                    refNorms[n] += w * w;
                    if (n == 1) refLength += tf;
                    if (candWeights.TryGetValue(ngram, out double cw)) dots[n] += Math.Min(cw, w) * w;
                }
                double delta = candLength - refLength;
                double penalty = Math.Pow(Math.E, -(delta * delta) / (2 * Sigma * Sigma));
                for (int n = 0; n < Order; n++)
                {
                    double val = dots[n];
                    double refNorm = Math.Sqrt(refNorms[n]);
                    if (candNorms[n] != 0 && refNorm != 0) val /= candNorms[n] * refNorm;
                    perOrder[n] += val * penalty;
                }
            }
            double mean = 0;
            for (int n = 0; n < Order; n++) mean += perOrder[n];
            mean /= Order;
            scores[img] = mean / refCounts[img].Length * 10.0;
            sum += scores[img];
        }
        return new MetricScore(sum / scores.Length, scores);
    }
}
