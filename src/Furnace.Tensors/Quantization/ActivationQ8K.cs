// Activation rows quantized to Q8_K for the dot products of the K-quants and IQ4_XS, as llama.cpp does (ggml
// vec_dot_type of q2_K..q6_K and iq4_xs is q8_K). Mirrors ggml-cpu quantize_row_q8_K, which on x86 is the reference
// quantize_row_q8_K_ref of ggml-quants.c:
//   per 256 values: amax = max|x|, max = the first element reaching amax, with its sign; iscale = -127/max;
//   q = min(127, nearest_int(iscale * x)) (round half to even), bsums[j] = sum of q[16j .. 16j+15], d = 1/iscale (f32);
//   an all-zero block stores d = 0 and zero codes (and zero sums here; ggml leaves its sums as they were).
// Stored exactly as ggml's block_q8_K (292 bytes: f32 d | 256 int8 qs | 16 int16 bsums), so bytes compare directly and
// the kernels read the sums of the zero-point and minimum terms from the block. Vector512 -> Vector256 -> scalar twin
// (QuantizeBlockScalar); all three give the same bytes.
// Written from ggml's published formulas (no llama.cpp source copied); checked against the ggml-cpu shipped in
// LLamaSharp.Backend.Cpu 0.30.0 (tests/Furnace.Oracle.Tests/QuantKernelOracleTests.cs).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Furnace.Tensors;

internal readonly unsafe struct ActivationQ8K
{
    public const int BlockBytes = 292;
    public const int QsOffset = 4;
    public const int SumsOffset = 260;

    public readonly byte* Data;  // (t, nb, 292)
    public readonly int Blocks;  // nb super-blocks per token row

    public ActivationQ8K(void* buffer, int blocks)
    {
        Data = (byte*)buffer;
        Blocks = blocks;
    }

    public static long BytesFor(int t, int blocks) => (long)t * blocks * BlockBytes;

    public byte* Row(int token) => Data + (long)token * Blocks * BlockBytes;

    // token row (nb*256,) of x -> Q8_K blocks
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public void QuantizeRow(int token, float* x)
    {
        byte* y = Row(token);
        for (int b = 0; b < Blocks; b++) QuantizeBlock(y + b * BlockBytes, x + b * 256);
    }

    // x (nb*256,) -> y (nb*292,) ggml block_q8_K bytes, SIMD (best width, or 256-bit when asked) or through the scalar
    // twin; for tests
    public static void Quantize(ReadOnlySpan<float> x, Span<byte> y, bool scalar = false, bool vector256 = false)
    {
        int nb = x.Length / 256;
        if (x.Length % 256 != 0 || y.Length < nb * BlockBytes) throw new ArgumentException($"{x.Length} values do not fill {nb} q8_K blocks of the output");
        fixed (float* px = x)
        fixed (byte* py = y)
        {
            for (int b = 0; b < nb; b++)
            {
                if (scalar) QuantizeBlockScalar(py + b * BlockBytes, px + b * 256);
                else if (vector256) QuantizeBlock256(py + b * BlockBytes, px + b * 256);
                else QuantizeBlock(py + b * BlockBytes, px + b * 256);
            }
        }
    }

    // x (256,) -> one block_q8_K at y
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void QuantizeBlock(byte* y, float* x)
    {
        if (!Avx512F.IsSupported)
        {
            if (Vector256.IsHardwareAccelerated) QuantizeBlock256(y, x);
            else QuantizeBlockScalar(y, x);
            return;
        }
        Vector512<float> m = Vector512.Abs(Vector512.Load(x));
        for (int i = 16; i < 256; i += 16) m = Vector512.MaxNative(m, Vector512.Abs(Vector512.Load(x + i)));
        float amax = ActivationQ8.MaxAcross(m);
        if (amax == 0)
        {
            new Span<byte>(y, BlockBytes).Clear();
            return;
        }
        // the first element whose magnitude is amax gives the sign of the scale
        var va = Vector512.Create(amax);
        int first = 0;
        for (int i = 0; i < 256; i += 16)
        {
            ulong hits = Vector512.Equals(Vector512.Abs(Vector512.Load(x + i)), va).ExtractMostSignificantBits();
            if (hits != 0)
            {
                first = i + System.Numerics.BitOperations.TrailingZeroCount(hits);
                break;
            }
        }
        float iscale = -127f / x[first];
        var vs = Vector512.Create(iscale);
        var top = Vector512.Create(127);
        sbyte* qs = (sbyte*)(y + QsOffset);
        short* sums = (short*)(y + SumsOffset);
        for (int i = 0; i < 256; i += 16)
        {
            Vector512<int> q = Vector512.Min(Vector512.ConvertToInt32(Vector512.Round(Vector512.Load(x + i) * vs)), top);
            Avx512F.ConvertToVector128SByte(q).Store(qs + i); // values lie in [-127, 127]: truncation is exact
            sums[i / 16] = (short)Vector512.Sum(q);
        }
        *(float*)y = 1f / iscale;
    }

    // QuantizeBlock with 256-bit vectors (AVX2 machines)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static void QuantizeBlock256(byte* y, float* x)
    {
        Vector256<float> m = Vector256.Abs(Vector256.Load(x));
        for (int i = 8; i < 256; i += 8) m = Vector256.Max(m, Vector256.Abs(Vector256.Load(x + i)));
        var h = Vector128.Max(m.GetLower(), m.GetUpper());
        h = Vector128.Max(h, Vector128.Shuffle(h, Vector128.Create(2, 3, 0, 1)));
        float amax = Vector128.Max(h, Vector128.Shuffle(h, Vector128.Create(1, 0, 3, 2))).ToScalar();
        if (amax == 0)
        {
            new Span<byte>(y, BlockBytes).Clear();
            return;
        }
        var va = Vector256.Create(amax);
        int first = 0;
        for (int i = 0; i < 256; i += 8)
        {
            uint hits = Vector256.Equals(Vector256.Abs(Vector256.Load(x + i)), va).ExtractMostSignificantBits();
            if (hits != 0)
            {
                first = i + System.Numerics.BitOperations.TrailingZeroCount(hits);
                break;
            }
        }
        float iscale = -127f / x[first];
        var vs = Vector256.Create(iscale);
        var top = Vector256.Create(127);
        sbyte* qs = (sbyte*)(y + QsOffset);
        short* sums = (short*)(y + SumsOffset);
        for (int i = 0; i < 256; i += 32)
        {
            var q0 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + i) * vs)), top);
            var q1 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + i + 8) * vs)), top);
            var q2 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + i + 16) * vs)), top);
            var q3 = Vector256.Min(Vector256.ConvertToInt32(Vector256.Round(Vector256.Load(x + i + 24) * vs)), top);
            // values lie in [-127, 127]: narrowing is exact
            Vector256.Narrow(Vector256.Narrow(q0, q1), Vector256.Narrow(q2, q3)).Store(qs + i);
            sums[i / 16] = (short)Vector256.Sum(q0 + q1);
            sums[i / 16 + 1] = (short)Vector256.Sum(q2 + q3);
        }
        *(float*)y = 1f / iscale;
    }

    // scalar twin of QuantizeBlock: the reference quantize_row_q8_K_ref (ActivationQuant.Q8_K) on one block
    public static void QuantizeBlockScalar(byte* y, float* x) =>
        ActivationQuant.Q8_K(new Span<byte>(y, BlockBytes), new ReadOnlySpan<float>(x, 256));
}
