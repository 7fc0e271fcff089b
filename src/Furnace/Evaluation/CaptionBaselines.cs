// Two reference points for a captioner, computed from its training set only (never from the eval set):
//   constant  the single caption that scores best (CIDEr-D) when predicted for every training image — chosen among
//             training captions, scored on a seeded sample of training images with their own references;
//   nearest   nearest-neighbour retrieval: each eval image gets the caption of the training image whose image
//             features are closest (cosine similarity of mean-pooled vision features, e.g. ResNet18's 7×7 grid
//             averaged = its pooled output).
using Furnace.Data;

namespace Furnace.Evaluation;

public static class CaptionBaselines
{
    /// <summary>Training images with their English captions (the assistant turns of a training set; CJK answers skipped).</summary>
    public static IReadOnlyList<(string Image, IReadOnlyList<string> Captions)> TrainingCaptions(TrainingSet set)
    {
        var byImage = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var order = new List<string>();
        for (int i = 0; i < set.Count; i++)
        {
            if (set.ImagePathOf(i) is not { } image) continue;
            foreach (var turn in set.Example(i).Turns)
            {
                if (turn.Role != TrainingRole.Assistant || turn.Text.Any(IsCjk)) continue;
                if (!byImage.TryGetValue(image, out var list))
                {
                    byImage[image] = list = [];
                    order.Add(image);
                }
                list.Add(turn.Text);
            }
        }
        return order.Select(i => (i, (IReadOnlyList<string>)byImage[i])).ToArray();
    }

    /// <summary>The best constant caption: up to <paramref name="candidates"/> distinct training captions (the most
    /// frequent first, then spread over the set), each scored by CIDEr-D against <paramref name="sample"/> training images.</summary>
    public static (string Caption, double CiderD) BestConstant(IReadOnlyList<(string Image, IReadOnlyList<string> Captions)> train,
        int candidates = 200, int sample = 500, int seed = 1)
    {
        if (train.Count == 0) throw new FurnaceException("no training captions to choose a constant caption from");
        var all = train.SelectMany(t => t.Captions).ToList();
        var pool = all.GroupBy(c => c, StringComparer.Ordinal).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Key).Take(candidates / 2).ToList();
        for (int i = 0; pool.Count < candidates && i < candidates; i++)
        {
            string c = all[(int)((long)i * all.Count / candidates)];
            if (!pool.Contains(c)) pool.Add(c);
        }
        var rng = new Random(seed);
        var picked = Enumerable.Range(0, train.Count).OrderBy(_ => rng.Next()).Take(sample).ToArray();
        var refs = picked.ToDictionary(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture), i => train[i].Captions, StringComparer.Ordinal);
        string best = pool[0];
        double bestScore = double.NegativeInfinity;
        foreach (string c in pool)
        {
            var preds = refs.Keys.ToDictionary(k => k, _ => c, StringComparer.Ordinal);
            double score = CaptionEvaluator.Evaluate(refs, preds).Corpus.CiderD;
            if (score > bestScore) (best, bestScore) = (c, score);
        }
        return (best, bestScore);
    }

    /// <summary>For each query feature row (dim floats), the index of the closest training row by cosine similarity.</summary>
    public static int[] Nearest(float[][] train, float[][] queries)
    {
        var norms = train.Select(Norm).ToArray();
        var result = new int[queries.Length];
        for (int q = 0; q < queries.Length; q++)
        {
            float qn = Norm(queries[q]);
            double best = double.NegativeInfinity;
            for (int t = 0; t < train.Length; t++)
            {
                double sim = Dot(queries[q], train[t]) / Math.Max(1e-12, (double)qn * norms[t]);
                if (sim > best) (best, result[q]) = (sim, t);
            }
        }
        return result;

        static float Norm(float[] v) => MathF.Sqrt(Dot(v, v));
        static float Dot(float[] a, float[] b)
        {
            double s = 0;
            for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
            return (float)s;
        }
    }

    /// <summary>Averages (tokens, dim) feature rows into one dim-vector.</summary>
    public static float[] MeanPool(ReadOnlySpan<float> features, int tokens, int dim)
    {
        var v = new float[dim];
        for (int t = 0; t < tokens; t++)
            for (int d = 0; d < dim; d++) v[d] += features[t * dim + d];
        for (int d = 0; d < dim; d++) v[d] /= tokens;
        return v;
    }

    private static bool IsCjk(char c) => c is >= '\u3000' and <= '\u9fff' or >= '\uff00' and <= '\uffef';
}
