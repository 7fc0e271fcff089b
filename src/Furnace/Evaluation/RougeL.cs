// ROUGE-L (Lin 2004) as coco-caption computes it (pycocoevalcap/rouge/rouge.py):
//  - words are str.split(" ") of the tokenized caption (a doubled space yields an empty word; "" is one word);
//  - for each reference, LCS length against the candidate gives precision lcs/|cand| and recall lcs/|ref|;
//  - the image score is the F-measure of the *maximum* precision and the *maximum* recall over references
//    (taken independently), with beta = 1.2: (1 + b^2) P R / (R + b^2 P), 0 when either is 0;
//  - the corpus score is the mean of the image scores.
namespace Furnace.Evaluation;

public static class RougeL
{
    private const double Beta = 1.2;

    /// <param name="candidates">One tokenized caption per image.</param>
    /// <param name="references">The tokenized references of each image, aligned with candidates.</param>
    public static MetricScore Compute(IReadOnlyList<string> candidates, IReadOnlyList<IReadOnlyList<string>> references)
    {
        ScorerInput.Check(candidates, references);
        var vocab = new Vocabulary();
        var scores = new double[candidates.Count];
        double sum = 0;
        for (int img = 0; img < candidates.Count; img++)
        {
            scores[img] = ImageScore(vocab, candidates[img], references[img]);
            sum += scores[img];
        }
        return new MetricScore(sum / scores.Length, scores);
    }

    private static double ImageScore(Vocabulary vocab, string candidate, IReadOnlyList<string> references)
    {
        var cand = vocab.SplitSpace(candidate);
        double maxPrecision = 0, maxRecall = 0;
        int[] row = [];
        foreach (var reference in references)
        {
            var refWords = vocab.SplitSpace(reference);
            int lcs = LongestCommonSubsequence(refWords, cand, ref row);
            maxPrecision = Math.Max(maxPrecision, lcs / (double)cand.Length);
            maxRecall = Math.Max(maxRecall, lcs / (double)refWords.Length);
        }
        if (maxPrecision == 0 || maxRecall == 0) return 0.0;
        double b2 = Beta * Beta;
        return (1 + b2) * maxPrecision * maxRecall / (maxRecall + b2 * maxPrecision);
    }

    // Classic O(|a||b|) dynamic programme with one rolling row over b.
    private static int LongestCommonSubsequence(int[] a, int[] b, ref int[] row)
    {
        if (row.Length < b.Length + 1) row = new int[b.Length + 1];
        Array.Clear(row, 0, b.Length + 1);
        for (int i = 0; i < a.Length; i++)
        {
            int diagonal = 0; // row[j] of the previous i, before this i overwrote it
            for (int j = 1; j <= b.Length; j++)
            {
                int up = row[j];
                row[j] = a[i] == b[j - 1] ? diagonal + 1 : Math.Max(up, row[j - 1]);
                diagonal = up;
            }
        }
        return row[b.Length];
    }
}
