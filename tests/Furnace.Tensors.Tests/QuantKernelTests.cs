// The llama.cpp quantization types' kernels against their scalar twins on seeded random blocks (random code bytes,
// sane f16 scales): Q8_K/Q8_1 activation quantizers SIMD vs scalar and formula (bytes equal), each row dot SIMD vs
// the ggml-generic scalar twin, and MatMul.Forward (GEMV and GEMM tiles, 1-3 threads) vs the scalar twin row by row.
// Tolerance: the integer sums are exact in both, so only f32 ordering differs: |y - ref| <= 1e-5 * sum_b |block_b| + 1e-6.
using System.Runtime.InteropServices;
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class QuantKernelTests
{
    private static readonly DType[] KTypes = [DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.IQ4_XS];
    private static readonly DType[] Types32 = [DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.IQ4_NL];

    // offsets of the f16 fields (d, dmin or m) of each block layout
    private static int[] HalfFields(DType t) => t switch
    {
        DType.Q2_K => [80, 82],
        DType.Q3_K => [108],
        DType.Q4_K or DType.Q5_K => [0, 2],
        DType.Q6_K => [208],
        DType.IQ4_XS or DType.Q5_0 or DType.IQ4_NL or DType.Q4_0 or DType.Q8_0 => [0],
        DType.Q4_1 or DType.Q5_1 => [0, 2],
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    // rows x cols of random blocks of type t
    internal static byte[] RandomBlocks(DType t, int rows, int cols, int seed)
    {
        var rng = new Random(seed);
        var bytes = new byte[DTypes.RowBytes(t, cols) * rows];
        rng.NextBytes(bytes);
        int bb = DTypes.BlockBytes(t);
        int[] fields = HalfFields(t);
        for (int b = 0; b < bytes.Length / bb; b++)
        {
            foreach (int f in fields)
            {
                Half h = (Half)((rng.NextDouble() * 0.9 + 0.1) * 0.01 * (f == fields[0] || rng.Next(2) == 0 ? 1 : -1));
                MemoryMarshal.Write(bytes.AsSpan(b * bb + f), in h);
            }
        }
        return bytes;
    }

    public static TheoryData<DType> AllTypes()
    {
        var d = new TheoryData<DType>();
        foreach (DType t in KTypes.Concat(Types32)) d.Add(t);
        return d;
    }

    [Fact]
    public void QuantizeQ8K_RandomAndEdgeBlocks_Simd512And256BytesEqualScalarTwin()
    {
        float[] x = Reference.Random(256 * 6, 41, 3f);
        for (int j = 256; j < 512; j++) x[j] = 0;                      // an all-zero block
        x[600] = -9f;                                                    // negative max: q(-9) = -127 with d > 0
        x[800] = 7f; x[801] = -7f;                                       // a tie in |x|: the first one wins
        for (int j = 1024; j < 1280; j++) x[j] = (j - 1024 - 128) / 2f;  // exact .5 ties after scaling
        x[1280] = 1e-30f;
        byte[] simd = QuantDot.QuantizeActivations(DType.Q8_K, x);
        byte[] scalar = QuantDot.QuantizeActivations(DType.Q8_K, x, scalar: true);
        Assert.Equal(scalar, simd);
        var v256 = new byte[simd.Length];
        ActivationQ8K.Quantize(x, v256, vector256: true);
        Assert.Equal(scalar, v256);
        Assert.Equal(9f / 127f, BitConverter.ToSingle(simd, 2 * 292), 6); // d = 1 / (-127 / max)
        Assert.All(simd.Skip(292).Take(292), b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(DType.Q8_K)]
    [InlineData(DType.Q8_1)]
    public void QuantizeActivations_RandomRows_BytesEqualActivationQuantReference(DType type)
    {
        foreach (float scale in new[] { 1e-4f, 1f, 50f })
        {
            float[] x = Reference.Random(256 * 4, 45, scale);
            for (int j = 256; j < 512; j++) x[j] = 0;
            x[900] = -2 * scale;
            var want = new byte[DTypes.RowBytes(type, x.Length)];
            if (type == DType.Q8_K) ActivationQuant.Q8_K(want, x);
            else ActivationQuant.Q8_1(want, x);
            Assert.Equal(want, QuantDot.QuantizeActivations(type, x));
        }
    }

    [Fact]
    public void QuantizeQ8_1_RandomBlocks_SumMatchesFormula()
    {
        float[] x = Reference.Random(32 * 5, 43, 2f);
        byte[] y = QuantDot.QuantizeActivations(DType.Q8_1, x);
        (sbyte[] q, float[] d) = Reference.ActivationQ8(x);
        for (int b = 0; b < 5; b++)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.Max(amax, Math.Abs(x[b * 32 + j]));
            int sum = q.Skip(b * 32).Take(32).Sum(v => (int)v);
            Assert.Equal(d[b], (float)BitConverter.ToHalf(y, b * 36));
            Assert.Equal((float)(Half)(amax / 127f * sum), (float)BitConverter.ToHalf(y, b * 36 + 2));
            Assert.Equal(q.Skip(b * 32).Take(32).Select(v => (byte)v), y.Skip(b * 36 + 4).Take(32));
        }
    }

    // scalar-twin dot of weight row w with x quantized the scalar way, and sum_b |block_b| for the tolerance
    private static float ScalarDot(DType t, ReadOnlySpan<byte> w, float[] x, out double mag)
    {
        DType at = QuantDot.ActivationType(t);
        byte[] a = QuantDot.QuantizeActivations(at, x, scalar: true);
        int bs = DTypes.BlockSize(t), bb = DTypes.BlockBytes(t), ab = DTypes.BlockBytes(at) * (bs / DTypes.BlockSize(at));
        mag = 0;
        for (int b = 0; b < x.Length / bs; b++)
            mag += Math.Abs(QuantDot.Dot(t, w.Slice(b * bb, bb), a.AsSpan(b * ab, ab), bs, scalar: true));
        return QuantDot.Dot(t, w, a, x.Length, scalar: true);
    }

    [Theory]
    [MemberData(nameof(AllTypes))]
    public void Dot_RandomBlocks_SimdMatchesScalarTwin(DType t)
    {
        const int n = 256 * 5;
        byte[] w = RandomBlocks(t, 4, n, 7 + (int)t);
        int rb = (int)DTypes.RowBytes(t, n);
        for (int r = 0; r < 4; r++)
        {
            float[] x = Reference.Random(n, 100 * r + (int)t, 2f);
            ReadOnlySpan<byte> row = w.AsSpan(r * rb, rb);
            float want = ScalarDot(t, row, x, out double mag);
            float got = QuantDot.Dot(t, row, QuantDot.QuantizeActivations(QuantDot.ActivationType(t), x), n);
            Assert.True(mag > 0, "degenerate test: all blocks zero");
            Assert.True(Math.Abs(got - want) <= 1e-5 * mag + 1e-6, $"{DTypes.Name(t)} row {r}: {got} vs scalar {want} (mag {mag})");
        }
    }

    public static TheoryData<DType, int, int, int, int> ForwardCases()
    {
        var d = new TheoryData<DType, int, int, int, int>();
        foreach (DType t in KTypes.Concat(Types32))
        {
            d.Add(t, 37, 512, 1, 2);   // GEMV
            d.Add(t, 21, 768, 7, 3);   // GEMM with a partial token tile
            d.Add(t, 9, 256, 4, 1);
            d.Add(t, 13, 512, 40, 2);  // K-quant GEMM: two chunks of tokens per unpacked row
        }
        return d;
    }

    [Theory]
    [InlineData(DType.Q4_K)]
    [InlineData(DType.Q5_K)]
    [InlineData(DType.IQ4_XS)]
    public void Forward_UnpackedGemmInsteadOfFusedTiles_MatchesScalarTwin(DType t)
    {
        KQuant.FusedGemm = false;
        try
        {
            Forward_RandomBlocks_MatchesScalarTwinRowByRow(t, 13, 512, 40, 2);
        }
        finally
        {
            KQuant.FusedGemm = true;
        }
    }

    [Theory]
    [MemberData(nameof(ForwardCases))]
    public void Forward_RandomBlocks_MatchesScalarTwinRowByRow(DType t, int rows, int cols, int tokens, int threads)
    {
        byte[] w = RandomBlocks(t, rows, cols, 500 + rows + (int)t);
        float[] x = Reference.Random(tokens * cols, 900 + tokens, 3f);
        var y = new float[tokens * rows];
        using var ctx = new KernelContext(threads);
        using var buf = new NativeBuffer(w.Length);
        w.CopyTo(buf.Bytes);
        MatMul.Forward(y, x, tokens, buf.AsMatrix(rows, cols, t), ctx);
        int rb = (int)DTypes.RowBytes(t, cols);
        for (int i = 0; i < tokens; i++)
        {
            float[] xi = x.AsSpan(i * cols, cols).ToArray();
            for (int r = 0; r < rows; r++)
            {
                float want = ScalarDot(t, w.AsSpan(r * rb, rb), xi, out double mag);
                float got = y[i * rows + r];
                Assert.True(Math.Abs(got - want) <= 1e-5 * mag + 1e-6, $"{DTypes.Name(t)} token {i} row {r}: {got} vs scalar {want}");
            }
        }
    }
}
