// ggml's own block formats (libggml-base / libggml-cpu from LLamaSharp.Backend.Cpu, through Support/Ggml) as the
// oracle for Furnace's Q4_1, Q5_0, Q5_1, Q2_K … Q6_K, IQ4_NL, IQ4_XS and the Q8_K / Q8_1 activation types:
//   dequantize_row_<type>       vs Dequantize.Bytes     every float bit-identical
//   ggml_quantize_chunk         vs Quantize.Row         (with and without an importance vector) identical blocks
//   quantize_row_<type>_ref     vs Quantize.RowRef      identical blocks
//   quantize_row_q8_K / q8_1    vs ActivationQuant      identical blocks
// on seeded data of several distributions (uniform, gaussian, gaussian with outliers, zero rows, tiny values).
using Furnace.Oracle.Tests.Support;
using Furnace.Tensors;

namespace Furnace.Oracle.Tests;

public sealed class BlockFormatOracleTests
{
    public static TheoryData<DType> StoredTypes => new()
    {
        DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.IQ4_NL, DType.IQ4_XS,
    };

    // Q4_0's importance path (quantize_row_q4_0_impl) is new here too
    public static TheoryData<DType> ImportanceTypes => new()
    {
        DType.Q4_0, DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.IQ4_NL, DType.IQ4_XS,
    };

    public static TheoryData<DType> AllBlockTypes => new()
    {
        DType.Q4_1, DType.Q5_0, DType.Q5_1, DType.Q2_K, DType.Q3_K, DType.Q4_K, DType.Q5_K, DType.Q6_K, DType.IQ4_NL, DType.IQ4_XS, DType.Q8_K,
    };

    private const int Cols = 1024;      // 4 super-blocks or 32 small blocks per row
    private const int RowsPerKind = 100; // x 11 distributions = 1100 rows = 4400 super-blocks / 35200 small blocks
    private const int Kinds = 11;

    // rows (Kinds * RowsPerKind, Cols): uniform [-1, 1); gaussian (sigma 0.02, like trained weights); gaussian with
    // 1 % of values x 30; all-zero rows; tiny values (~1e-6); a constant per row (equal values: the min == max
    // paths); sparse (90 % zeros); a few levels k/8, k in -8..8 (exact ties in every rounding); positive only;
    // ~1e-12 (f16 scales underflow to 0: the "scale 0, keep the search's codes" paths); ~3e3 (large f16 scales)
    private static float[] Samples(int seed)
    {
        var rng = new Random(seed);
        var x = new float[Kinds * RowsPerKind * Cols];
        for (int r = 0; r < Kinds * RowsPerKind; r++)
        {
            int kind = r / RowsPerKind;
            float constant = Gauss(rng);
            for (int c = 0; c < Cols; c++)
            {
                float g = Gauss(rng);
                x[r * Cols + c] = kind switch
                {
                    0 => (float)(rng.NextDouble() * 2 - 1),
                    1 => 0.02f * g,
                    2 => 0.02f * g * (rng.NextDouble() < 0.01 ? 30f : 1f),
                    3 => 0f,
                    4 => 1e-6f * g,
                    5 => constant,
                    6 => rng.NextDouble() < 0.9 ? 0f : g,
                    7 => rng.Next(-8, 9) / 8f,
                    8 => MathF.Abs(0.02f * g),
                    9 => 1e-12f * g,
                    _ => 3e3f * g,
                };
            }
        }
        return x;
    }

    private static float Gauss(Random rng) =>
        (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));

    // importance vector (Cols,): spread over two orders of magnitude like llama-imatrix's mean squares, with 10 % zeros
    // (columns no calibration token reached) and one 32-wide stretch of zeros (a whole block without weight)
    private static float[] Importance(int seed)
    {
        var rng = new Random(seed);
        var w = new float[Cols];
        for (int i = 0; i < Cols; i++) w[i] = rng.NextDouble() < 0.1 || i / 32 == 5 ? 0f : (float)Math.Exp(4 * rng.NextDouble() - 2);
        return w;
    }

    // byte offsets of the scale fields of a block, and whether they are f32 (Q8_K) rather than f16
    private static int[] ScaleOffsets(DType t) => t switch
    {
        DType.Q4_1 or DType.Q5_1 or DType.Q4_K or DType.Q5_K => [0, 2],
        DType.Q5_0 or DType.IQ4_NL or DType.IQ4_XS or DType.Q8_K => [0],
        DType.Q2_K => [80, 82],
        DType.Q3_K => [108],
        DType.Q6_K => [208],
        _ => throw new ArgumentOutOfRangeException(nameof(t)),
    };

    private static int[] Bits(float[] f) => f.Select(BitConverter.SingleToInt32Bits).ToArray();

    private static unsafe float[] Ours(DType t, byte[] bytes, int n)
    {
        var y = new float[n];
        fixed (byte* p = bytes) Dequantize.Bytes(y, p, t);
        return y;
    }

    [Theory]
    [MemberData(nameof(AllBlockTypes))]
    public void Dequantize_RandomBlockBytes_BitIdenticalToGgml(DType t)
    {
        // every bit pattern of codes and packed scales; the scale fields made finite so NaN payloads don't matter
        var rng = new Random(17 + (int)t);
        int bs = DTypes.BlockSize(t), bb = DTypes.BlockBytes(t), blocks = 4096;
        var bytes = new byte[blocks * bb];
        rng.NextBytes(bytes);
        for (int b = 0; b < blocks; b++)
        {
            foreach (int o in ScaleOffsets(t))
            {
                if (t == DType.Q8_K) BitConverter.TryWriteBytes(bytes.AsSpan(b * bb + o), Gauss(rng) * 1e-3f);
                else BitConverter.TryWriteBytes(bytes.AsSpan(b * bb + o), (Half)(Gauss(rng) * 1e-2f));
            }
        }
        Assert.Equal(Bits(Ggml.Dequantize(t, bytes, blocks * bs)), Bits(Ours(t, bytes, blocks * bs)));
    }

    [Theory]
    [MemberData(nameof(StoredTypes))]
    public void Dequantize_GgmlQuantizedRows_BitIdenticalToGgml(DType t)
    {
        float[] x = Samples(3);
        int rows = x.Length / Cols;
        byte[] q = Ggml.QuantizeChunk(t, x, rows, Cols);
        Assert.Equal(Bits(Ggml.Dequantize(t, q, x.Length)), Bits(Ours(t, q, x.Length)));
    }

    // fraction of identical blocks between ggml's bytes and ours, with the first differing block for the message
    private static (double Fraction, string Detail) Compare(DType t, byte[] ggml, byte[] ours, float[] x, Func<int, bool>? skip = null)
    {
        int bb = DTypes.BlockBytes(t), bs = DTypes.BlockSize(t), blocks = ggml.Length / bb, same = 0, counted = 0;
        string detail = "all identical";
        for (int b = 0; b < blocks; b++)
        {
            if (skip?.Invoke(b) == true) continue;
            counted++;
            if (ggml.AsSpan(b * bb, bb).SequenceEqual(ours.AsSpan(b * bb, bb))) same++;
            else if (detail == "all identical")
                detail = $"first differing block {b} (x[{b * bs}] = {x[b * bs]}): ggml {Convert.ToHexString(ggml, b * bb, bb)} ours {Convert.ToHexString(ours, b * bb, bb)}";
        }
        return ((double)same / counted, $"{same}/{counted} blocks identical ({DTypes.Name(t)}); {detail}");
    }

    private static byte[] QuantizeOurs(DType t, float[] x, float[]? importance, bool reference)
    {
        int rows = x.Length / Cols, rb = (int)DTypes.RowBytes(t, Cols);
        var y = new byte[rows * rb];
        for (int r = 0; r < rows; r++)
        {
            var dst = y.AsSpan(r * rb, rb);
            var src = x.AsSpan(r * Cols, Cols);
            if (reference) Quantize.RowRef(dst, src, t);
            else if (importance is null) Quantize.Row(dst, src, t);
            else Quantize.Row(dst, src, t, importance);
        }
        return y;
    }

    [Theory]
    [MemberData(nameof(StoredTypes))]
    public void QuantizeRow_NoImportance_BytesEqualGgmlQuantizeChunk(DType t)
    {
        float[] x = Samples(5);
        byte[] ggml = Ggml.QuantizeChunk(t, x, x.Length / Cols, Cols);
        var (fraction, detail) = Compare(t, ggml, QuantizeOurs(t, x, null, reference: false), x);
        Assert.True(fraction == 1.0, detail);
    }

    [Theory]
    [MemberData(nameof(ImportanceTypes))]
    public void QuantizeRow_WithImportance_BytesEqualGgmlQuantizeChunk(DType t)
    {
        float[] x = Samples(7), w = Importance(8);
        byte[] ggml = Ggml.QuantizeChunk(t, x, x.Length / Cols, Cols, w);
        var (fraction, detail) = Compare(t, ggml, QuantizeOurs(t, x, w, reference: false), x);
        Assert.True(fraction == 1.0, detail);
        // the importance path is a different search, not the plain one: most blocks come out different
        var (plain, _) = Compare(t, ggml, Ggml.QuantizeChunk(t, x, x.Length / Cols, Cols), x);
        Assert.True(plain < 0.9, $"{plain:P1} of {DTypes.Name(t)} blocks identical with and without importance");
    }

    [Theory]
    [MemberData(nameof(StoredTypes))]
    public void QuantizeRowRef_RandomRows_BytesEqualGgmlRef(DType t)
    {
        float[] x = Samples(9);
        byte[] ggml = Ggml.QuantizeRowRef(t, x);
        int bs = DTypes.BlockSize(t);
        // quantize_row_iq4_nl_ref leaves an all-zero block's codes as its stack held them (stale or uninitialized)
        Func<int, bool>? skip = t == DType.IQ4_NL ? b => x.AsSpan(b * bs, bs).ToArray().All(v => MathF.Abs(v) < 1e-15f) : null;
        var (fraction, detail) = Compare(t, ggml, QuantizeOurs(t, x, null, reference: true), x, skip);
        Assert.True(fraction == 1.0, detail);
        if (t == DType.IQ4_NL)
        {
            // ggml_quantize_chunk's IQ4_NL searches scales, its _ref does not: they differ, and we follow each
            var (same, _) = Compare(t, ggml, Ggml.QuantizeChunk(t, x, x.Length / Cols, Cols), x, skip);
            Assert.True(same < 0.9, $"{same:P1} of iq4_nl blocks identical between _ref and quantize_chunk");
        }
    }

    [Theory]
    [InlineData(DType.Q8_K)]
    [InlineData(DType.Q8_1)]
    public void ActivationQuant_RandomRows_BytesEqualGgmlCpu(DType t)
    {
        float[] x = Samples(11);
        byte[] ggml = Ggml.QuantizeActivations(t, x);
        var ours = new byte[ggml.Length];
        if (t == DType.Q8_K) ActivationQuant.Q8_K(ours, x);
        else ActivationQuant.Q8_1(ours, x);
        var (fraction, detail) = Compare(t, ggml, ours, x);
        Assert.True(fraction == 1.0, detail);
    }
}
