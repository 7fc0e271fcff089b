// Rotary embedding of DeepSeek's rope dims with YaRN, as ggml computes it for LLM_ARCH_DEEPSEEK2 at llama.cpp
// c0c7e147 (rope type NORM: adjacent pairs (x[2i], x[2i+1]) rotate together, on the GGUF weights as converted):
//   ggml-cpu ops.cpp rope_yarn / ggml_rope_cache_init, ggml.c ggml_rope_yarn_corr_dims;
//   llama-context.cpp (yarn_attn_factor when ext_factor != 0), src/models/deepseek2.cpp (kq_scale with mscale²).
// Angles follow ggml's float recurrence theta_{i+1} = theta_i · base^(−2/n) so that positions match to the ulp.
namespace Furnace.Models.DeepSeek;

public sealed class DeepSeekRope
{
    private readonly float[] _cos; // (positions, dims/2), already multiplied by the rope's magnitude scale
    private readonly float[] _sin;
    private readonly int _half;
    private readonly bool _neox;

    public DeepSeekRope(DeepSeekConfig c, int positions)
    {
        int n = c.QkRopeDim;
        _half = n / 2;
        _neox = c.RopeNeox;
        MaxPositions = positions;
        _cos = new float[(long)positions * _half];
        _sin = new float[(long)positions * _half];
        (float freqScale, float extFactor, float attnFactor, KqScale) = Scales(c);
        float thetaScale = MathF.Pow(c.RopeTheta, -2f / n);
        float low = 0, high = 0;
        if (c.Yarn is { } y)
        {
            float CorrDim(float rotations) => n * MathF.Log(y.OriginalContext / (rotations * 2 * MathF.PI)) / (2 * MathF.Log(c.RopeTheta));
            low = MathF.Max(0, MathF.Floor(CorrDim(y.BetaFast)));
            high = MathF.Min(n - 1, MathF.Ceiling(CorrDim(y.BetaSlow)));
        }
        for (int p = 0; p < positions; p++)
        {
            float theta = p;
            for (int i = 0; i < _half; i++)
            {
                float t = freqScale * theta, mscale = attnFactor;
                if (extFactor != 0f)
                {
                    float ramp = (i - low) / MathF.Max(0.001f, high - low);
                    float mix = (1 - MathF.Min(1, MathF.Max(0, ramp))) * extFactor;
                    t = t * (1 - mix) + theta * mix;
                    mscale *= 1f + 0.1f * MathF.Log(1f / freqScale);
                }
                _cos[(long)p * _half + i] = MathF.Cos(t) * mscale;
                _sin[(long)p * _half + i] = MathF.Sin(t) * mscale;
                theta *= thetaScale;
            }
        }
    }

    public int MaxPositions { get; }

    /// <summary>The factor of every q·k score: mscale² / sqrt(qkHeadDim), mscale the YaRN attention temperature.</summary>
    public float KqScale { get; }

    /// <summary>
    /// (freq_scale, ext_factor, the rope's attn_factor, kq_scale) exactly as llama.cpp derives them for deepseek2:
    /// the context's yarn_attn_factor is made to cancel ggml's built-in 1 + 0.1·ln(1/freq_scale), and the graph then
    /// rebuilds mscale = attn_factor_org · (1 + 0.1·mscale_all_dim·ln(factor)) for the KQ scale.
    /// </summary>
    public static (float FreqScale, float ExtFactor, float AttnFactor, float KqScale) Scales(DeepSeekConfig c)
    {
        float freqScale = 1f, ext = 0f, attn = 1f;
        if (c.Yarn is { } y && y.Factor > 1f)
        {
            freqScale = 1f / y.Factor;
            ext = 1f;
            float factor = 1f / freqScale;
            static float GetMscale(float scale, float m) => scale <= 1f ? 1f : 0.1f * m * MathF.Log(scale) + 1f;
            float all = y.LogMultiplier;
            float m = all != 0f && all != 1f ? all : 1f;
            attn = all != 0f ? GetMscale(factor, m) / GetMscale(factor, all) : GetMscale(factor, 1f);
            attn *= 1f / (1f + 0.1f * MathF.Log(factor));
            attn *= y.AttnFactor;
        }
        float attnOrg = attn * (1f + 0.1f * MathF.Log(1f / freqScale));
        float mscale = attnOrg * (1f + 0.1f * (c.Yarn?.LogMultiplier ?? 0f) * MathF.Log(1f / freqScale));
        float kq = mscale * mscale / MathF.Sqrt(c.QkHeadDim);
        return (freqScale, ext, attn, kq);
    }

    // x (nHeads, stride) with the rope dims at [offset, offset + dims) of each head: rotate adjacent pairs in place
    // (or the pairs (i, i + dims/2) for RopeNeox configs: HF plain attention's rotate_half)
    public void Apply(Span<float> x, int nHeads, int stride, int offset, int pos)
    {
        ReadOnlySpan<float> cos = _cos.AsSpan(pos * _half, _half), sin = _sin.AsSpan(pos * _half, _half);
        for (int h = 0; h < nHeads; h++)
        {
            Span<float> v = x.Slice(h * stride + offset, 2 * _half);
            if (_neox)
            {
                for (int i = 0; i < _half; i++)
                {
                    float x0 = v[i], x1 = v[i + _half];
                    v[i] = x0 * cos[i] - x1 * sin[i];
                    v[i + _half] = x0 * sin[i] + x1 * cos[i];
                }
                continue;
            }
            for (int i = 0; i < _half; i++)
            {
                float x0 = v[2 * i], x1 = v[2 * i + 1];
                v[2 * i] = x0 * cos[i] - x1 * sin[i];
                v[2 * i + 1] = x0 * sin[i] + x1 * cos[i];
            }
        }
    }
}
