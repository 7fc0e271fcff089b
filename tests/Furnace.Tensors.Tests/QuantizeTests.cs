// Block layouts and the reference quantizers against hand-derived ggml values (ggml-quants.c quantize_row_*_ref):
//   q8_0: d = amax/127, q = roundf(x/d)          q4_0: d = max/-8 (max = signed value of largest magnitude),
//                                                       q = min(15, (int8)(x/d + 8.5))
// Expected blocks below were worked out from those formulas in float32 arithmetic.
using System.Runtime.CompilerServices;
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class QuantizeTests
{
    private static float[] Ramp(float sign) => Enumerable.Range(0, 32).Select(i => sign * i).ToArray();

    [Fact]
    public void BlockLayouts_Sizes_MatchGgml()
    {
        Assert.Equal(34, Unsafe.SizeOf<BlockQ8_0>());
        Assert.Equal(18, Unsafe.SizeOf<BlockQ4_0>());
        Assert.Equal(34, BlockQ8_0.Size);
        Assert.Equal(18, BlockQ4_0.Size);
        Assert.Equal(34 * 3, DTypes.RowBytes(DType.Q8_0, 96));
        Assert.Equal(18 * 3, DTypes.RowBytes(DType.Q4_0, 96));
    }

    [Fact]
    public void Q8_0_Ramp0To31_MatchesHandComputedBlock()
    {
        var dst = new byte[34];
        Quantize.Row(dst, Ramp(1), DType.Q8_0);
        Assert.Equal(0x33d0, BitConverter.ToUInt16(dst, 0)); // f16(31/127) = 0.244140625
        sbyte[] expect = { 0, 4, 8, 12, 16, 20, 25, 29, 33, 37, 41, 45, 49, 53, 57, 61, 66, 70, 74, 78, 82, 86, 90, 94, 98, 102, 107, 111, 115, 119, 123, 127 };
        Assert.Equal(expect, dst.Skip(2).Select(b => (sbyte)b).ToArray());
    }

    [Fact]
    public void Q8_0_Negatives_MirrorPositives()
    {
        var pos = new byte[34];
        var neg = new byte[34];
        Quantize.Row(pos, Ramp(1), DType.Q8_0);
        Quantize.Row(neg, Ramp(-1), DType.Q8_0);
        Assert.Equal(BitConverter.ToUInt16(pos, 0), BitConverter.ToUInt16(neg, 0)); // d from |x|, positive
        for (int j = 0; j < 32; j++) Assert.Equal(-(sbyte)pos[2 + j], (sbyte)neg[2 + j]);
    }

    [Theory]
    [InlineData(DType.Q8_0)]
    [InlineData(DType.Q4_0)]
    public void Quantize_AllZeroBlock_ZeroScaleAndMidCodes(DType t)
    {
        var dst = new byte[DTypes.BlockBytes(t)];
        Array.Fill(dst, (byte)0xAA);
        Quantize.Row(dst, new float[32], t);
        // q4_0: d = 0 / -8 = -0.0 in ggml too, so the f16 scale has its sign bit set
        Assert.Equal(t == DType.Q8_0 ? 0 : 0x8000, BitConverter.ToUInt16(dst, 0));
        byte code = t == DType.Q8_0 ? (byte)0 : (byte)0x88; // q4_0: x*0 + 8.5 -> 8 in both nibbles
        Assert.All(dst.Skip(2), b => Assert.Equal(code, b));
    }

    [Theory]
    [InlineData(1f, 0xc3c0)]  // max = +31 -> d = 31/-8 = -3.875
    [InlineData(-1f, 0x43c0)] // max = -31 -> d = +3.875
    public void Q4_0_Ramp_MatchesHandComputedBlock(float sign, int dBits)
    {
        var dst = new byte[18];
        Quantize.Row(dst, Ramp(sign), DType.Q4_0);
        Assert.Equal(dBits, BitConverter.ToUInt16(dst, 0));
        int[] q = { 8, 8, 7, 7, 7, 7, 6, 6, 6, 6, 5, 5, 5, 5, 4, 4, 4, 4, 3, 3, 3, 3, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0 };
        for (int j = 0; j < 16; j++) Assert.Equal(q[j] | (q[j + 16] << 4), dst[2 + j]);
    }

    [Fact]
    public void Q4_0_PositiveExtremeOfOppositeSign_ClampsTo15()
    {
        // max = -8 -> d = 1, id = 1: x = +8 gives 16.5 -> (int)16 -> clamped to 15
        var x = new float[32];
        x[0] = -8; x[1] = 8; x[2] = 3;
        var dst = new byte[18];
        Quantize.Row(dst, x, DType.Q4_0);
        Assert.Equal(0x3c00, BitConverter.ToUInt16(dst, 0)); // 1.0
        Assert.Equal(0, dst[2] & 0x0F);
        Assert.Equal(15, dst[3] & 0x0F);
        Assert.Equal(11, dst[4] & 0x0F);
    }

    [Theory]
    [InlineData(DType.Q8_0, 0.5 + 127.0 / 2048)]  // half a step plus f16 rounding of d times |q| <= 127
    [InlineData(DType.Q4_0, 1.0 + 8.0 / 2048)]    // a full step where the top code clamps, plus f16 rounding of d
    [InlineData(DType.F16, 0)]
    [InlineData(DType.BF16, 0)]
    public void DequantizeOfQuantize_RandomRows_WithinBound(DType t, double stepsBound)
    {
        const int n = 32 * 13;
        float[] x = Reference.Random(n, 5, 4f);
        var enc = new byte[DTypes.RowBytes(t, n)];
        Quantize.Row(enc, x, t);
        using var buf = new NativeBuffer(enc.Length);
        enc.CopyTo(buf.Bytes);
        var back = new float[n];
        Dequantize.Row(back, buf.AsMatrix(1, n, t), 0);
        for (int b = 0; b < n / 32; b++)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.Max(amax, Math.Abs(x[b * 32 + j]));
            double step = t switch { DType.Q8_0 => amax / 127.0, DType.Q4_0 => amax / 8.0, _ => 0 };
            for (int j = 0; j < 32; j++)
            {
                float v = x[b * 32 + j];
                double bound = t switch
                {
                    DType.F16 => Math.Abs(v) * Math.Pow(2, -11) + 6e-8,
                    DType.BF16 => Math.Abs(v) * Math.Pow(2, -8),
                    _ => stepsBound * step + 1e-7,
                };
                Assert.True(Math.Abs(back[b * 32 + j] - v) <= bound, $"{t} [{b * 32 + j}] {v} -> {back[b * 32 + j]}");
            }
        }
    }

    [Fact]
    public void ToBF16_Ties_RoundToEven()
    {
        Assert.Equal(0x3f80, Quantize.ToBF16(BitConverter.Int32BitsToSingle(0x3f808000))); // tie, even below
        Assert.Equal(0x3f82, Quantize.ToBF16(BitConverter.Int32BitsToSingle(0x3f818000))); // tie, even above
        Assert.Equal(0x3f81, Quantize.ToBF16(BitConverter.Int32BitsToSingle(0x3f808001)));
    }
}
