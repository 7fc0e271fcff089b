// Activation rows quantized to Q8_0 for the integer dot products of Q8_0/Q4_0/Q5_0/IQ4_NL weights, and to Q8_1 for
// Q4_1/Q5_1, as llama.cpp does (ggml vec_dot_type). Mirrors ggml-cpu arch/x86/quants.c quantize_row_q8_0 and
// quantize_row_q8_1 (AVX paths), which share the block math:
//   amax = max|x|, d = amax/127 (stored as f16), id = amax != 0 ? 127/amax : 0, q = round_half_even(x*id).
// That differs from the reference quantizer (Quantize.Q8_0Block: id = 1/d, round half away from zero) only on
// ties and last-ulp cases; the weights themselves are quantized by the reference version.
// Q8_1 adds s = f16(d * sum(q)) with the unrounded d (quantize_row_q8_1), the term of the weight minimum m.
// Layout here is split for SIMD instead of ggml's 34/36-byte blocks: qs (nb, 32) int8 | d (nb,) float | bias (nb,) int
// | s (nb,) float, where d is the f16-rounded scale as float and bias = -offset * sum(qs): the start value of a u8 x s8
// VNNI dot whose weights were shifted up by offset, which makes the signed dot exact (see MatMulQuant).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Furnace.Tensors;

internal readonly unsafe struct ActivationQ8
{
    public readonly sbyte* Qs;  // (t, nb, 32)
    public readonly float* D;   // (t, nb)
    public readonly int* Bias;  // (t, nb)
    public readonly float* S;   // (t, nb) Q8_1's f16(d * sum(qs)) as float
    public readonly int Blocks; // nb per token row
    public readonly int Offset; // weight zero point the biases remove

    public ActivationQ8(void* buffer, int t, int blocks, int offset)
    {
        Blocks = blocks;
        Offset = offset;
        Qs = (sbyte*)buffer;
        D = (float*)((byte*)buffer + (long)t * blocks * 32);
        Bias = (int*)(D + (long)t * blocks);
        S = (float*)(Bias + (long)t * blocks);
    }

    public static long BytesFor(int t, int blocks) => (long)t * blocks * (32 + 4 + 4 + 4);

    public sbyte* RowQs(int token) => Qs + (long)token * Blocks * 32;

    public float* RowD(int token) => D + (long)token * Blocks;

    public int* RowBias(int token) => Bias + (long)token * Blocks;

    public float* RowS(int token) => S + (long)token * Blocks;

    // token row (nb*32,) of x -> Q8 blocks
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public void QuantizeRow(int token, float* x)
    {
        sbyte* qs = RowQs(token);
        float* dd = RowD(token);
        int* ss = RowBias(token);
        float* s1 = RowS(token);
        for (int b = 0; b < Blocks; b++) QuantizeBlock(qs + b * 32, dd + b, ss + b, s1 + b, x + b * 32, -Offset);
    }

    // x (nb*32,) -> ggml block_q8_1 bytes (nb, 36: f16 d | f16 s | 32 int8) through the kernel path; for tests
    public static void QuantizeQ8_1(ReadOnlySpan<float> x, Span<byte> y)
    {
        int nb = x.Length / 32;
        if (x.Length % 32 != 0 || y.Length < nb * 36) throw new ArgumentException($"{x.Length} values do not fill {nb} q8_1 blocks of the output");
        fixed (float* px = x)
        fixed (byte* py = y)
        {
            float d, s;
            int bias;
            for (int b = 0; b < nb; b++)
            {
                byte* o = py + b * 36;
                QuantizeBlock((sbyte*)(o + 4), &d, &bias, &s, px + b * 32, 1);
                *(Half*)o = (Half)d;
                *(Half*)(o + 2) = (Half)s;
            }
        }
    }

    // x (nb*32,) -> q (nb*32,), d (nb,), sum (nb,) = sum of each block's qs, through the kernel path; for tests
    public static void Quantize(ReadOnlySpan<float> x, Span<sbyte> q, Span<float> d, Span<int> sum)
    {
        int nb = x.Length / 32;
        if (x.Length % 32 != 0 || q.Length < x.Length || d.Length < nb || sum.Length < nb)
            throw new ArgumentException($"{x.Length} values do not fill {nb} blocks of the given outputs");
        fixed (float* px = x)
        fixed (sbyte* pq = q)
        fixed (float* pd = d)
        fixed (int* ps = sum)
        {
            float s1;
            for (int b = 0; b < nb; b++) QuantizeBlock(pq + b * 32, pd + b, ps + b, &s1, px + b * 32, 1);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuantizeBlock(sbyte* q, float* d, int* bias, float* s1, float* x, int mul)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var v0 = Vector512.Load(x);
            var v1 = Vector512.Load(x + 16);
            float amax = Vector512.MaxNative(Vector512.Abs(v0), Vector512.Abs(v1)) is var m ? MaxAcross(m) : 0;
            float dd = amax / 127f;
            *d = (float)(Half)dd;
            float id = amax != 0 ? 127f / amax : 0f;
            var vid = Vector512.Create(id);
            // x*id lies in [-127, 127], so float -> int conversion after rounding is exact
            var i0 = Vector512.ConvertToInt32(Vector512.Round(v0 * vid));
            var i1 = Vector512.ConvertToInt32(Vector512.Round(v1 * vid));
            var s16 = Vector512.Narrow(i0, i1);                        // (32,) int16 in order
            var s8 = Vector256.Narrow(s16.GetLower(), s16.GetUpper());   // (32,) int8 in order
            s8.Store(q);
            int sum = Vector512.Sum(i0 + i1);
            *bias = mul * sum;
            *s1 = (float)(Half)(dd * sum);
            return;
        }
        float a = 0;
        for (int j = 0; j < 32; j++) a = MathF.Max(a, MathF.Abs(x[j]));
        float d0 = a / 127f;
        *d = (float)(Half)d0;
        float inv = a != 0 ? 127f / a : 0f;
        int s = 0;
        for (int j = 0; j < 32; j++)
        {
            int v = (int)MathF.Round(x[j] * inv, MidpointRounding.ToEven);
            q[j] = (sbyte)v;
            s += v;
        }
        *bias = mul * s;
        *s1 = (float)(Half)(d0 * s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    // max over the 16 lanes (also the Q8_K quantizer's)
    internal static float MaxAcross(Vector512<float> m)
    {
        var h = Vector256.Max(m.GetLower(), m.GetUpper());
        var q = Vector128.Max(h.GetLower(), h.GetUpper());
        q = Vector128.Max(q, Vector128.Shuffle(q, Vector128.Create(2, 3, 0, 1)));
        q = Vector128.Max(q, Vector128.Shuffle(q, Vector128.Create(1, 0, 3, 2)));
        return q.ToScalar();
    }
}
