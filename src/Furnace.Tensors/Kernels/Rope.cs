// Rotary position embeddings (RoFormer; ggml_rope_ext). Two pairings of the rotated dims:
//   Interleaved: pairs (x[2i], x[2i+1])           — llama.cpp's LLAMA_ROPE_TYPE_NORM (arch llama)
//   HalfSplit:   pairs (x[i], x[i + d/2])         — HF rotate_half, llama.cpp's NEOX (arch qwen2)
// Angles follow ggml's cache: theta_i = pos * base^(-2i/d) / freq_factor_i, accumulated in float as ggml does.
namespace Furnace.Tensors;

public enum RopeStyle
{
    Interleaved,
    HalfSplit,
}

public sealed class RopeTable
{
    private readonly float[] _cos; // (maxPositions, rotaryDims/2)
    private readonly float[] _sin;

    /// <param name="freqFactors">Optional per-pair divisors (Llama-3 rope scaling; GGUF rope_freqs.weight), length rotaryDims/2.</param>
    /// <param name="freqScale">Linear rope scaling: angles are multiplied by this (1 / HF rope_scaling.factor; ggml freq_scale).</param>
    public RopeTable(int rotaryDims, int maxPositions, float theta, ReadOnlySpan<float> freqFactors = default, float freqScale = 1f)
    {
        if (rotaryDims <= 0 || rotaryDims % 2 != 0) throw new ArgumentException($"rotary dims {rotaryDims} must be positive and even");
        if (maxPositions <= 0) throw new ArgumentException($"max positions {maxPositions} must be positive");
        if (!(theta > 0)) throw new ArgumentException($"rope theta {theta} must be positive");
        if (!(freqScale > 0)) throw new ArgumentException($"rope frequency scale {freqScale} must be positive");
        if (!freqFactors.IsEmpty && freqFactors.Length != rotaryDims / 2)
            throw new ArgumentException($"rope frequency factors hold {freqFactors.Length} values, need {rotaryDims / 2}");
        RotaryDims = rotaryDims;
        MaxPositions = maxPositions;
        int half = rotaryDims / 2;
        _cos = new float[maxPositions * half];
        _sin = new float[maxPositions * half];
        float thetaScale = MathF.Pow(theta, -2.0f / rotaryDims);
        for (int p = 0; p < maxPositions; p++)
        {
            float th = p;
            for (int i = 0; i < half; i++)
            {
                float ff = freqFactors.IsEmpty ? 1f : freqFactors[i];
                float a = freqScale * (th / ff);
                _cos[p * half + i] = MathF.Cos(a);
                _sin[p * half + i] = MathF.Sin(a);
                th *= thetaScale;
            }
        }
    }

    public int RotaryDims { get; }

    public int MaxPositions { get; }

    public ReadOnlySpan<float> Cos(int pos) => _cos.AsSpan(pos * (RotaryDims / 2), RotaryDims / 2);

    public ReadOnlySpan<float> Sin(int pos) => _sin.AsSpan(pos * (RotaryDims / 2), RotaryDims / 2);

    /// <summary>Llama-3 "llama3" rope_scaling as frequency divisors (HF _compute_llama3_parameters; llama.cpp rope_freqs).</summary>
    public static float[] Llama3FreqFactors(int rotaryDims, float theta, float factor, float lowFreqFactor, float highFreqFactor, int originalMaxPositions)
    {
        int half = rotaryDims / 2;
        var ff = new float[half];
        double lowWavelen = originalMaxPositions / lowFreqFactor;
        double highWavelen = originalMaxPositions / highFreqFactor;
        for (int i = 0; i < half; i++)
        {
            double freq = 1.0 / Math.Pow(theta, 2.0 * i / rotaryDims);
            double wavelen = 2 * Math.PI / freq;
            if (wavelen < highWavelen) ff[i] = 1f;
            else if (wavelen > lowWavelen) ff[i] = factor;
            else
            {
                double smooth = (originalMaxPositions / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
                ff[i] = (float)(1.0 / ((1 - smooth) / factor + smooth));
            }
        }
        return ff;
    }
}

public static class Rope
{
    // x (nHeads, headDim) rotated in place for position pos; the first table.RotaryDims dims of each head rotate.
    public static void Apply(Span<float> x, int nHeads, int headDim, int pos, RopeTable table, RopeStyle style)
    {
        if ((uint)pos >= (uint)table.MaxPositions) throw new ArgumentOutOfRangeException(nameof(pos), pos, $"position outside the rope table [0, {table.MaxPositions})");
        ReadOnlySpan<float> cos = table.Cos(pos), sin = table.Sin(pos);
        int half = table.RotaryDims / 2;
        for (int h = 0; h < nHeads; h++)
        {
            Span<float> v = x.Slice(h * headDim, headDim);
            for (int i = 0; i < half; i++)
            {
                int a = style == RopeStyle.Interleaved ? 2 * i : i;
                int b = style == RopeStyle.Interleaved ? 2 * i + 1 : i + half;
                float x0 = v[a], x1 = v[b];
                v[a] = x0 * cos[i] - x1 * sin[i];
                v[b] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
