// Interleaved16 (repacked) Q4_K/Q5_K/Q6_K weights: the AVX-512 GEMV and GEMM kernels and their scalar twin against the
// row-major AVX2 GEMV (KQuantFused.DotQ4K (Q5_K: fifth) / DotQ6K, through MatMul.Forward one token at a time), and the packing round
// trip. The integer sums are exact and the float steps are the same, so the outputs are bit-identical (on machines
// without AVX2 the row-major reference takes another float order: then |diff| <= 1e-5 * sum|blocks| + 1e-6).
using System.Runtime.Intrinsics.X86;
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class RepackKTests
{
    public static TheoryData<DType, int, int, int, int> Cases()
    {
        var d = new TheoryData<DType, int, int, int, int>();
        int[] cols = { 256, 768, 1536 };
        int i = 0;
        foreach (DType type in new[] { DType.Q4_K, DType.Q5_K, DType.Q6_K })
        {
            foreach (int rows in new[] { 16, 13, 37, 100 })
            {
                foreach (int t in new[] { 1, 2, 3, 5, 17, 70 })
                {
                    d.Add(type, rows, cols[i % cols.Length], t, 1 + i % 3);
                    i++;
                }
            }
        }
        return d;
    }

    private static void AssertSame(float got, float want, string what)
    {
        if (Avx2.IsSupported) Assert.True(BitConverter.SingleToInt32Bits(got) == BitConverter.SingleToInt32Bits(want), $"{what}: {got} vs {want}");
        else Assert.True(Math.Abs(got - want) <= 1e-5 * Math.Abs(want) + 1e-4, $"{what}: {got} vs {want}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_Interleaved16_BitIdenticalToRowMajorGemv(DType type, int rows, int cols, int t, int threads)
    {
        byte[] wb = QuantKernelTests.RandomBlocks(type, rows, cols, 700 + rows + cols + (int)type);
        float[] x = Reference.Random(t * cols, 800 + t, 3f);
        using var buf = new NativeBuffer(wb.Length);
        wb.CopyTo(buf.Bytes);
        WeightMatrix w = buf.AsMatrix(rows, cols, type);
        using NativeBuffer pbuf = RepackK.Interleave16(w, out WeightMatrix packed);
        Assert.Equal(WeightLayout.Interleaved16, packed.Layout);
        Assert.Equal(pbuf.Length, packed.ByteLength);
        using var ctx = new KernelContext(threads);
        var got = new float[t * rows];
        MatMul.Forward(got, x, t, packed, ctx);
        var scalar = new float[t * rows];
        MatMulKPacked.ForwardScalar(scalar, x, t, packed);
        var want = new float[rows];
        for (int i = 0; i < t; i++)
        {
            MatMul.Forward(want, x.AsSpan(i * cols, cols), 1, w, ctx);
            for (int r = 0; r < rows; r++)
            {
                AssertSame(got[i * rows + r], want[r], $"{DTypes.Name(type)} token {i} row {r}");
                AssertSame(scalar[i * rows + r], want[r], $"{DTypes.Name(type)} scalar twin token {i} row {r}");
            }
        }
    }

    [Theory]
    [InlineData(DType.Q4_K)]
    [InlineData(DType.Q5_K)]
    [InlineData(DType.Q6_K)]
    public void Forward_SubnormalF16Scales_BitIdenticalToRowMajorGemv(DType type)
    {
        const int rows = 20, cols = 512;
        byte[] wb = QuantKernelTests.RandomBlocks(type, rows, cols, 31);
        int bb = DTypes.BlockBytes(type), dOff = type == DType.Q6_K ? 208 : 0;
        for (int b = 0; b < wb.Length / bb; b += 2)
        {
            Half tiny = BitConverter.UInt16BitsToHalf((ushort)(1 + b % 900)); // f16 subnormals
            BitConverter.TryWriteBytes(wb.AsSpan(b * bb + dOff), BitConverter.HalfToUInt16Bits(tiny));
        }
        float[] x = Reference.Random(5 * cols, 32, 3f);
        using var buf = new NativeBuffer(wb.Length);
        wb.CopyTo(buf.Bytes);
        WeightMatrix w = buf.AsMatrix(rows, cols, type);
        using NativeBuffer pbuf = RepackK.Interleave16(w, out WeightMatrix packed);
        using var ctx = new KernelContext(1);
        foreach (int t in new[] { 1, 5 })
        {
            var got = new float[t * rows];
            MatMul.Forward(got, x.AsSpan(0, t * cols), t, packed, ctx);
            var want = new float[rows];
            for (int i = 0; i < t; i++)
            {
                MatMul.Forward(want, x.AsSpan(i * cols, cols), 1, w, ctx);
                for (int r = 0; r < rows; r++) AssertSame(got[i * rows + r], want[r], $"{DTypes.Name(type)} t={t} token {i} row {r}");
            }
        }
    }

    [Theory]
    [InlineData(DType.Q4_K, 13, 256)]
    [InlineData(DType.Q6_K, 13, 256)]
    [InlineData(DType.Q4_K, 48, 1024)]
    [InlineData(DType.Q6_K, 33, 768)]
    [InlineData(DType.Q5_K, 13, 256)]
    [InlineData(DType.Q5_K, 40, 768)]
    public void RowBlock_Interleaved16_RebuildsTheOriginalBlocks(DType type, int rows, int cols)
    {
        byte[] wb = QuantKernelTests.RandomBlocks(type, rows, cols, 900 + rows);
        using var buf = new NativeBuffer(wb.Length);
        wb.CopyTo(buf.Bytes);
        WeightMatrix w = buf.AsMatrix(rows, cols, type);
        using NativeBuffer pbuf = RepackK.Interleave16(w, out WeightMatrix packed);
        int bb = DTypes.BlockBytes(type), nb = cols / 256;
        var a = new float[cols];
        var b = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            for (int k = 0; k < nb; k++)
            {
                byte[] blk = RepackK.RowBlock(packed, r, k);
                Assert.True(blk.AsSpan().SequenceEqual(wb.AsSpan((r * nb + k) * bb, bb)), $"row {r} block {k}");
            }
            Dequantize.Row(a, w, r);
            Dequantize.Row(b, packed, r);
            Assert.Equal(a, b);
        }
        Assert.Throws<InvalidOperationException>(() => packed.RowSpan(0));
        Assert.Throws<InvalidOperationException>(() => packed.Slice(0, 1));
    }

    [Fact]
    public void PackedWeights_Q4K_RepackedExactlyWhereTheAvx512KernelsRun()
    {
        byte[] wb = QuantKernelTests.RandomBlocks(DType.Q4_K, 16, 256, 5);
        using var buf = new NativeBuffer(wb.Length);
        wb.CopyTo(buf.Bytes);
        using var packs = new PackedWeights();
        WeightMatrix p = packs.Add(buf.AsMatrix(16, 256, DType.Q4_K));
        Assert.Equal(Avx512BW.IsSupported ? WeightLayout.Interleaved16 : WeightLayout.RowMajor, p.Layout);
        Assert.Equal(Avx512BW.IsSupported, PackedWeights.Packs(DType.Q6_K));
        Assert.Equal(Avx512BW.IsSupported, PackedWeights.Packs(DType.Q5_K));
        Assert.False(PackedWeights.Packs(DType.Q3_K));
    }
}
