// The ggml block layouts of KQuantBlocks.cs (ggml-common.h static_asserts: block_q4_K is 144 bytes, …) and the
// packed-scale helpers, without ggml itself (the bit-exact comparisons are in Furnace.Oracle.Tests).
using System.Runtime.CompilerServices;
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class BlockFormatTests
{
    [Fact]
    public void BlockLayouts_SizeOf_EqualsBlockBytes()
    {
        Assert.Equal(DTypes.BlockBytes(DType.Q4_1), Unsafe.SizeOf<BlockQ4_1>());
        Assert.Equal(DTypes.BlockBytes(DType.Q5_0), Unsafe.SizeOf<BlockQ5_0>());
        Assert.Equal(DTypes.BlockBytes(DType.Q5_1), Unsafe.SizeOf<BlockQ5_1>());
        Assert.Equal(DTypes.BlockBytes(DType.Q8_1), Unsafe.SizeOf<BlockQ8_1>());
        Assert.Equal(DTypes.BlockBytes(DType.IQ4_NL), Unsafe.SizeOf<BlockIQ4_NL>());
        Assert.Equal(DTypes.BlockBytes(DType.Q2_K), Unsafe.SizeOf<BlockQ2_K>());
        Assert.Equal(DTypes.BlockBytes(DType.Q3_K), Unsafe.SizeOf<BlockQ3_K>());
        Assert.Equal(DTypes.BlockBytes(DType.Q4_K), Unsafe.SizeOf<BlockQ4_K>());
        Assert.Equal(DTypes.BlockBytes(DType.Q5_K), Unsafe.SizeOf<BlockQ5_K>());
        Assert.Equal(DTypes.BlockBytes(DType.Q6_K), Unsafe.SizeOf<BlockQ6_K>());
        Assert.Equal(DTypes.BlockBytes(DType.Q8_K), Unsafe.SizeOf<BlockQ8_K>());
        Assert.Equal(DTypes.BlockBytes(DType.IQ4_XS), Unsafe.SizeOf<BlockIQ4_XS>());
        int[] consts = [BlockQ4_1.Size, BlockQ5_0.Size, BlockQ5_1.Size, BlockQ8_1.Size, BlockIQ4_NL.Size, BlockQ2_K.Size,
            BlockQ3_K.Size, BlockQ4_K.Size, BlockQ5_K.Size, BlockQ6_K.Size, BlockQ8_K.Size, BlockIQ4_XS.Size];
        Assert.Equal([20, 22, 24, 36, 18, 84, 110, 144, 176, 210, 292, 136], consts);
    }

    [Fact]
    public void ScaleMinK4_PackedBytes_UnpacksSixBitScalesAndMins()
    {
        // scales 0..7 = 63, 1, 2, 3, 60, 45, 33, 17; mins 0..7 = 5, 62, 7, 8, 50, 16, 31, 48 packed by hand
        int[] sc = [63, 1, 2, 3, 60, 45, 33, 17], mn = [5, 62, 7, 8, 50, 16, 31, 48];
        Span<byte> q = stackalloc byte[12];
        for (int j = 0; j < 4; j++)
        {
            q[j] = (byte)(sc[j] | ((sc[j + 4] >> 4) << 6));
            q[j + 4] = (byte)(mn[j] | ((mn[j + 4] >> 4) << 6));
            q[j + 8] = (byte)((sc[j + 4] & 0xF) | ((mn[j + 4] & 0xF) << 4));
        }
        for (int j = 0; j < 8; j++)
        {
            Dequantize.ScaleMinK4(j, q, out int s, out int m);
            Assert.Equal((sc[j], mn[j]), (s, m));
        }
    }

    [Fact]
    public void ScaleQ3K_PackedBytes_UnpacksSixteenSixBitScales()
    {
        Span<byte> s = stackalloc byte[12];
        s.Clear();
        for (int j = 0; j < 16; j++)
        {
            int v = (7 * j + 5) & 63;
            if (j < 8) s[j] |= (byte)(v & 0xF);
            else s[j - 8] |= (byte)((v & 0xF) << 4);
            s[8 + j % 4] |= (byte)((v >> 4) << (2 * (j / 4)));
        }
        for (int j = 0; j < 16; j++) Assert.Equal((7 * j + 5) & 63, Dequantize.ScaleQ3K(j, s));
    }
}
