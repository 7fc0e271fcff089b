// Interleaved8 (repacked) Q8_0/Q4_0 weights: the packed GEMV/GEMM kernels against the row-major kernels, and the
// packing round trip through Dequantize.Row. The integer block dots are exact in both paths; only the f32 scaling
// order differs (packed: isum * (d_w * d_x), row-major: isum * d_x * d_w), so the tolerance is
// |y_packed - y_rowmajor| <= 1e-5 * sum|terms| + 1e-6.
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class RepackTests
{
    public static TheoryData<DType, int, int, int, int> Cases()
    {
        var d = new TheoryData<DType, int, int, int, int>();
        int[] cols = { 32, 160, 512, 2048, 96 };
        int i = 0;
        foreach (DType type in new[] { DType.Q8_0, DType.Q4_0 })
        {
            foreach (int rows in new[] { 8, 13, 64, 100 })
            {
                foreach (int t in new[] { 1, 3, 4, 5, 17 })
                {
                    d.Add(type, rows, cols[i % cols.Length], t, 1 + i % 3);
                    i++;
                }
            }
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_Interleaved8_MatchesRowMajorKernels(DType type, int rows, int cols, int t, int threads)
    {
        float[] wf = Reference.Random(rows * cols, 3000 + rows * 7 + cols);
        float[] x = Reference.Random(t * cols, 4000 + t, 3f);
        using var buf = NativeBuffer.FromFloats(wf, rows, cols, type);
        WeightMatrix w = buf.AsMatrix(rows, cols, type);
        using NativeBuffer pbuf = Repack.Interleave8(w, out WeightMatrix packed);
        Assert.True(packed.IsInterleaved8);
        using var ctx = new KernelContext(threads);
        var expect = new float[t * rows];
        var got = new float[t * rows];
        MatMul.Forward(expect, x, t, w, ctx);
        MatMul.Forward(got, x, t, packed, ctx);
        (_, double[] mag) = Reference.MatMul(w, x, t);
        for (int k = 0; k < got.Length; k++)
            Assert.True(Math.Abs(got[k] - expect[k]) <= 1e-5 * mag[k] + 1e-6, $"{type} y[{k}] = {got[k]}, row-major {expect[k]} (mag {mag[k]})");
        // the scalar twin (the path without AVX-VNNI) on the same layout
        var scalar = new float[t * rows];
        MatMulPacked.ForwardScalar(scalar, x, t, packed);
        for (int k = 0; k < got.Length; k++)
            Assert.True(Math.Abs(got[k] - scalar[k]) <= 1e-5 * mag[k] + 1e-6, $"{type} y[{k}] = {got[k]}, scalar twin {scalar[k]}");
    }

    [Theory]
    [InlineData(DType.Q8_0)]
    [InlineData(DType.Q4_0)]
    public void Forward_SubnormalF16Scales_MatchesRowMajorKernels(DType type)
    {
        const int rows = 24, cols = 256;
        float[] wf = Reference.Random(rows * cols, 6000, 1e-4f); // block scales ~1e-6: f16 subnormals
        float[] x = Reference.Random(3 * cols, 6001, 3f);
        using var buf = NativeBuffer.FromFloats(wf, rows, cols, type);
        WeightMatrix w = buf.AsMatrix(rows, cols, type);
        using NativeBuffer pbuf = Repack.Interleave8(w, out WeightMatrix packed);
        using var ctx = new KernelContext(1);
        foreach (int t in new[] { 1, 3 })
        {
            var expect = new float[t * rows];
            var got = new float[t * rows];
            MatMul.Forward(expect, x, t, w, ctx);
            MatMul.Forward(got, x, t, packed, ctx);
            (_, double[] mag) = Reference.MatMul(w, x, t);
            for (int k = 0; k < got.Length; k++)
                Assert.True(Math.Abs(got[k] - expect[k]) <= 1e-5 * mag[k] + 1e-12, $"{type} t={t} y[{k}] = {got[k]}, row-major {expect[k]}");
        }
    }

    [Theory]
    [InlineData(DType.Q8_0, 13, 96)]
    [InlineData(DType.Q4_0, 13, 96)]
    [InlineData(DType.Q8_0, 64, 2048)]
    [InlineData(DType.Q4_0, 100, 512)]
    public void DequantizeRow_Interleaved8_EqualsRowMajor(DType type, int rows, int cols)
    {
        float[] wf = Reference.Random(rows * cols, 5000 + rows + cols, 2f);
        wf[5] = 0;
        using var buf = NativeBuffer.FromFloats(wf, rows, cols, type);
        WeightMatrix w = buf.AsMatrix(rows, cols, type);
        using NativeBuffer pbuf = Repack.Interleave8(w, out WeightMatrix packed);
        Assert.Equal((rows + 7) / 8 * 8 * w.RowBytes, pbuf.Length);
        var a = new float[cols];
        var b = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            Dequantize.Row(a, w, r);
            Dequantize.Row(b, packed, r);
            Assert.Equal(a, b);
        }
        Assert.Throws<InvalidOperationException>(() => packed.RowSpan(0));
    }

    [Fact]
    public void PackedWeights_FloatMatrix_UsedInPlace()
    {
        using var buf = NativeBuffer.FromFloats(new float[8 * 32], 8, 32, DType.F32);
        using var packs = new PackedWeights();
        WeightMatrix w = buf.AsMatrix(8, 32, DType.F32);
        WeightMatrix p = packs.Add(w);
        Assert.Equal(WeightLayout.RowMajor, p.Layout);
        Assert.Equal(0, packs.Count);
    }

    [Fact]
    public void MappedFile_Evict_ContentsStayReadable()
    {
        string path = Path.Combine(Path.GetTempPath(), $"furnace-evict-{Guid.NewGuid():N}.bin");
        var data = new byte[3 * Environment.SystemPageSize + 123];
        new Random(9).NextBytes(data);
        File.WriteAllBytes(path, data);
        try
        {
            using var f = MappedFile.Open(path);
            Assert.Equal(data[500], f.Span(500, 1)[0]);
            f.Evict(100, data.Length - 200);
            Assert.True(f.Span(0, data.Length).SequenceEqual(data));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
