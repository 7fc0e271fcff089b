// Furnace's activation quantizers and integer dot kernels against ggml-cpu itself (Support/Ggml): the activation bytes
// of quantize_row_q8_K / q8_0 / q8_1 are equal byte for byte, and our dot of a ggml-quantized weight row with ggml's
// activation row equals ggml_vec_dot_<w>_<a> up to f32 summation order: |ours - ggml| <= 1e-5 * sum_b |block_b|; so
// does MatMul.Forward on Q4_K/Q5_K/Q6_K weights repacked to Interleaved16 (RepackK: GEMV and GEMM tiles) for every row.
using Furnace.Oracle.Tests.Support;
using Furnace.Tensors;

namespace Furnace.Oracle.Tests;

public sealed class QuantKernelOracleTests
{
    private static float[] Random(int n, int seed, float scale)
    {
        var rng = new Random(seed);
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return x;
    }

    [Theory]
    [InlineData(DType.Q8_K)]
    [InlineData(DType.Q8_0)]
    [InlineData(DType.Q8_1)]
    public void QuantizeActivations_RandomRows_BytesEqualGgml(DType type)
    {
        foreach (float scale in new[] { 1e-3f, 1f, 37f })
        {
            float[] x = Random(256 * 8, 17, scale);
            for (int j = 256; j < 512; j++) x[j] = 0;        // an all-zero block (Q8_K: a whole super-block)
            x[700] = -2 * scale;                               // a negative max-abs element
            x[1100] = 3 * scale; x[1101] = -3 * scale;         // a tie in |x|
            byte[] want = Ggml.QuantizeActivations(type, x);
            Assert.Equal(want, QuantDot.QuantizeActivations(type, x));
            if (type == DType.Q8_K) Assert.Equal(want, QuantDot.QuantizeActivations(type, x, scalar: true));
        }
    }

    public static TheoryData<DType> WeightTypes => new()
    {
        DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.IQ4_NL, DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.IQ4_XS,
    };

    [Theory]
    [MemberData(nameof(WeightTypes))]
    public void Dot_GgmlQuantizedRows_MatchesGgmlVecDot(DType type)
    {
        const int rows = 6, n = 256 * 6;
        DType at = QuantDot.ActivationType(type);
        float[] wf = Random(rows * n, 5 + (int)type, 0.5f);
        byte[] w = Ggml.QuantizeChunk(type, wf, rows, n);
        int rb = (int)DTypes.RowBytes(type, n);
        int bs = DTypes.BlockSize(type), bb = DTypes.BlockBytes(type), ab = DTypes.BlockBytes(at) * (bs / DTypes.BlockSize(at));
        for (int r = 0; r < rows; r++)
        {
            float[] x = Random(n, 100 + r, 2f);
            byte[] a = Ggml.QuantizeActivations(at, x);
            ReadOnlySpan<byte> row = w.AsSpan(r * rb, rb);
            float want = Ggml.VecDot(type, at, row, a, n);
            double mag = 0;
            for (int b = 0; b < n / bs; b++) mag += Math.Abs(Ggml.VecDot(type, at, row.Slice(b * bb, bb), a.AsSpan(b * ab, ab), bs));
            foreach (bool scalar in new[] { false, true })
            {
                float got = QuantDot.Dot(type, row, a, n, scalar);
                Assert.True(Math.Abs(got - want) <= 1e-5 * mag + 1e-6,
                    $"{DTypes.Name(type)} row {r} ({(scalar ? "scalar" : "simd")}): {got} vs ggml {want} (mag {mag})");
            }
        }
    }

    [Theory]
    [InlineData(DType.Q4_K, 1)]
    [InlineData(DType.Q4_K, 7)]
    [InlineData(DType.Q5_K, 1)]
    [InlineData(DType.Q5_K, 7)]
    [InlineData(DType.Q6_K, 1)]
    [InlineData(DType.Q6_K, 7)]
    public void Forward_Interleaved16GgmlQuantizedRows_MatchesGgmlVecDot(DType type, int t)
    {
        const int rows = 21, n = 256 * 3;
        float[] wf = Random(rows * n, 9 + (int)type, 0.5f);
        byte[] w = Ggml.QuantizeChunk(type, wf, rows, n);
        using var buf = new NativeBuffer(w.Length);
        w.CopyTo(buf.Bytes);
        using NativeBuffer pbuf = RepackK.Interleave16(buf.AsMatrix(rows, n, type), out WeightMatrix packed);
        float[] x = Random(t * n, 300 + t, 2f);
        var y = new float[t * rows];
        using var ctx = new KernelContext(2);
        MatMul.Forward(y, x, t, packed, ctx);
        int rb = (int)DTypes.RowBytes(type, n), bb = DTypes.BlockBytes(type), ab = DTypes.BlockBytes(DType.Q8_K);
        for (int i = 0; i < t; i++)
        {
            byte[] a = Ggml.QuantizeActivations(DType.Q8_K, x.AsSpan(i * n, n).ToArray());
            for (int r = 0; r < rows; r++)
            {
                ReadOnlySpan<byte> row = w.AsSpan(r * rb, rb);
                float want = Ggml.VecDot(type, DType.Q8_K, row, a, n);
                double mag = 0;
                for (int b = 0; b < n / 256; b++) mag += Math.Abs(Ggml.VecDot(type, DType.Q8_K, row.Slice(b * bb, bb), a.AsSpan(b * ab, ab), 256));
                Assert.True(Math.Abs(y[i * rows + r] - want) <= 1e-5 * mag + 1e-6, $"{DTypes.Name(type)} token {i} row {r}: {y[i * rows + r]} vs ggml {want} (mag {mag})");
            }
        }
    }
}
