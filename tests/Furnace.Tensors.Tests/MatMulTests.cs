// MatMul.Forward against the scalar twin (Reference.MatMul) for every dtype, GEMV and GEMM, odd shapes, 1-3 threads.
// Tolerance: |y - ref| <= 2e-5 * sum|terms| + 1e-6, i.e. f32 accumulation-order error only; operand rounding
// (f16/bf16 activations, Q8_0 activation blocks) is reproduced exactly by the twin.
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class MatMulTests
{
    public static TheoryData<DType, int, int, int, int> Cases()
    {
        var d = new TheoryData<DType, int, int, int, int>();
        foreach (DType t in new[] { DType.F32, DType.F16, DType.BF16, DType.Q8_0, DType.Q4_0 })
        {
            bool blocked = t is DType.Q8_0 or DType.Q4_0;
            d.Add(t, 37, blocked ? 96 : 83, 1, 1);     // GEMV, odd rows, cols not a SIMD multiple (float types)
            d.Add(t, 37, blocked ? 96 : 83, 1, 2);
            d.Add(t, 64, blocked ? 288 : 264, 1, 3);
            d.Add(t, 21, blocked ? 160 : 147, 7, 2);   // GEMM with a partial token tile and an odd row count
            d.Add(t, 70, blocked ? 256 : 256, 9, 3);
            d.Add(t, 5, 32, 4, 1);
            d.Add(t, 70, blocked ? 288 : 300, 133, 2); // packed float GEMM: 2 row blocks + 6 leftover rows, 2 column blocks, token tail
            d.Add(t, 64, 64, 128, 1);
            d.Add(t, 40, blocked ? 64 : 72, 17, 1);    // f16/bf16 take the packed path from 16 tokens
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_RandomWeights_MatchesScalarTwin(DType type, int rows, int cols, int t, int threads)
    {
        float[] wf = Reference.Random(rows * cols, 1000 + rows + cols);
        float[] x = Reference.Random(t * cols, 2000 + t, 3f);
        using var buf = NativeBuffer.FromFloats(wf, rows, cols, type);
        WeightMatrix w = buf.AsMatrix(rows, cols, type);
        using var ctx = new KernelContext(threads);
        var y = new float[t * rows];
        MatMul.Forward(y, x, t, w, ctx);
        (double[] expect, double[] mag) = Reference.MatMul(w, x, t);
        for (int i = 0; i < y.Length; i++)
            Assert.True(Math.Abs(y[i] - expect[i]) <= 2e-5 * mag[i] + 1e-6, $"{type} y[{i}] = {y[i]}, expected {expect[i]} (mag {mag[i]})");
    }

    [Fact]
    public void Forward_RepeatedCallsDifferentShapes_ReuseContext()
    {
        using var ctx = new KernelContext(2);
        for (int rep = 0; rep < 3; rep++)
        {
            foreach ((int rows, int cols, int t) in new[] { (48, 64, 1), (33, 128, 5), (48, 64, 2) })
            {
                float[] wf = Reference.Random(rows * cols, rep * 7 + rows);
                float[] x = Reference.Random(t * cols, rep * 11 + cols);
                using var buf = NativeBuffer.FromFloats(wf, rows, cols, DType.Q4_0);
                WeightMatrix w = buf.AsMatrix(rows, cols, DType.Q4_0);
                var y = new float[t * rows];
                MatMul.Forward(y, x, t, w, ctx);
                (double[] expect, double[] mag) = Reference.MatMul(w, x, t);
                for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - expect[i]) <= 2e-5 * mag[i] + 1e-6);
            }
        }
    }

    [Fact]
    public void Forward_ShortOutput_Throws()
    {
        using var buf = NativeBuffer.FromFloats(new float[4 * 32], 4, 32, DType.F32);
        using var ctx = new KernelContext(1);
        Assert.Throws<ArgumentException>(() => MatMul.Forward(new float[3], new float[32], 1, buf.AsMatrix(4, 32, DType.F32), ctx));
    }

    [Fact]
    public void ActivationQuantize_RandomRows_BitExactWithGgmlFormula()
    {
        const int cols = 32 * 9;
        float[] x = Reference.Random(cols, 77, 5f);
        x[3] = 0; x[40] = 1e-30f;
        for (int j = 64; j < 96; j++) x[j] = 0; // an all-zero block
        for (int j = 96; j < 128; j++) x[j] = (j - 96) * 127f / 31f / 8f; // exact .5 ties after scaling
        (sbyte[] q, float[] d) = Reference.ActivationQ8(x);
        var gotQ = new sbyte[cols];
        var gotD = new float[cols / 32];
        var gotSum = new int[cols / 32];
        ActivationQ8.Quantize(x, gotQ, gotD, gotSum);
        Assert.Equal(q, gotQ);
        Assert.Equal(d, gotD);
        for (int b = 0; b < cols / 32; b++) Assert.Equal(q.Skip(b * 32).Take(32).Sum(v => (int)v), gotSum[b]);
    }
}
