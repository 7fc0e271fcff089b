// Picks the next token from logits: repetition penalty -> top-k -> top-p -> min-p -> temperature -> draw,
// the order of llama.cpp's default sampler chain. Buffers are sized once for the vocabulary; sampling allocates nothing.
namespace Furnace.Generation;

public sealed class Sampler
{
    private readonly SamplingOptions _o;
    private readonly int[] _idx;
    private readonly float[] _val;
    private ulong _rng;

    public Sampler(int vocabSize, SamplingOptions options)
    {
        _o = options.Validated();
        _idx = new int[vocabSize];
        _val = new float[vocabSize];
        _rng = options.Seed == 0 ? 0x9E3779B97F4A7C15UL : options.Seed;
    }

    /// <param name="logits">(vocab,) — modified in place by the repetition penalty.</param>
    /// <param name="recent">Tokens generated or read so far (the penalty looks at the last RepeatLastN).</param>
    public int Sample(Span<float> logits, ReadOnlySpan<int> recent)
    {
        if (_o.RepeatPenalty != 1f && _o.RepeatLastN > 0)
        {
            ReadOnlySpan<int> window = recent.Length > _o.RepeatLastN ? recent[^_o.RepeatLastN..] : recent;
            for (int j = 0; j < window.Length; j++)
            {
                // once per distinct token, as llama.cpp's penalties sampler does
                int t = window[j];
                if (window[..j].Contains(t)) continue;
                ref float l = ref logits[t];
                l = l > 0 ? l / _o.RepeatPenalty : l * _o.RepeatPenalty;
            }
        }
        if (_o.Temperature <= 0) return ArgMax(logits);

        int n = logits.Length;
        for (int i = 0; i < n; i++) _idx[i] = i;
        int k = _o.TopK > 0 ? Math.Min(_o.TopK, n) : n;
        // partial selection of the k largest, then sort them descending
        logits.CopyTo(_val);
        SelectTopK(k);
        Array.Sort(_val, _idx, 0, k, Descending.Instance);

        // softmax over the kept candidates (temperature-free, as llama.cpp's top-p/min-p see it)
        float max = _val[0];
        double sum = 0;
        for (int i = 0; i < k; i++) sum += Math.Exp(_val[i] - max);
        int keep = k;
        if (_o.TopP < 1f)
        {
            double cum = 0;
            for (int i = 0; i < k; i++)
            {
                cum += Math.Exp(_val[i] - max) / sum;
                if (cum >= _o.TopP) { keep = i + 1; break; }
            }
        }
        if (_o.MinP > 0f)
        {
            float threshold = max + MathF.Log(_o.MinP);
            int m = 1;
            while (m < keep && _val[m] >= threshold) m++;
            keep = m;
        }
        // temperature, then draw
        double total = 0;
        for (int i = 0; i < keep; i++) total += Math.Exp((_val[i] - max) / _o.Temperature);
        double r = NextDouble() * total;
        for (int i = 0; i < keep; i++)
        {
            r -= Math.Exp((_val[i] - max) / _o.Temperature);
            if (r <= 0) return _idx[i];
        }
        return _idx[keep - 1];
    }

    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    // Moves the k largest of _val (with their _idx) to the front, in any order (quickselect).
    private void SelectTopK(int k)
    {
        int lo = 0, hi = _val.Length - 1;
        if (k >= _val.Length) return;
        while (lo < hi)
        {
            float pivot = _val[(lo + hi) >>> 1];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (_val[i] > pivot) i++;
                while (_val[j] < pivot) j--;
                if (i <= j)
                {
                    (_val[i], _val[j]) = (_val[j], _val[i]);
                    (_idx[i], _idx[j]) = (_idx[j], _idx[i]);
                    i++;
                    j--;
                }
            }
            if (k - 1 <= j) hi = j;
            else if (k - 1 >= i) lo = i;
            else break;
        }
    }

    private double NextDouble()
    {
        // xorshift64*
        _rng ^= _rng >> 12;
        _rng ^= _rng << 25;
        _rng ^= _rng >> 27;
        return ((_rng * 2685821657736338717UL) >> 11) * (1.0 / (1UL << 53));
    }

    private sealed class Descending : IComparer<float>
    {
        public static readonly Descending Instance = new();

        public int Compare(float a, float b) => b.CompareTo(a);
    }
}
