// Conv2d (im2col + MatMul) against its direct double-precision twin Conv2d.ForwardScalar: channels-first and
// channels-last inputs, stride and padding, chunking across the im2col scratch, several thread counts, with and
// without bias. Tolerance 1e-4 absolute on outputs of magnitude ~1-10 (f32 accumulation over up to 4,608 terms).
// PyTorch's F.conv2d is the oracle for the same kernel in Furnace.Tests (SamOracleTests).
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class Conv2dTests
{
    [Theory]
    [InlineData(3, 32, 32, 40, 16, 16, 0, false, true, 1)]  // ViT patch embedding (pixels CHW), bias
    [InlineData(16, 9, 7, 32, 1, 1, 0, true, false, 2)]     // SAM neck 1x1 on a token map
    [InlineData(16, 9, 7, 33, 3, 1, 1, true, false, 2)]     // neck 3x3 pad 1, odd output count (GEMM tail rows)
    [InlineData(8, 24, 24, 64, 3, 2, 1, true, false, 3)]    // stride-2 downsample
    [InlineData(5, 11, 13, 7, 3, 2, 1, false, true, 2)]     // odd sizes, CHW, bias
    [InlineData(128, 20, 20, 48, 3, 1, 1, true, true, 2)]   // 400 pixels x 1,152 columns: the GEMM's many-token path
    [InlineData(512, 32, 32, 16, 3, 1, 1, true, false, 2)]  // 4,608 columns: 1,024 pixels unfold in two scratch chunks
    public void Forward_RandomInput_MatchesScalarTwin(int cin, int h, int w, int cout, int k, int stride, int pad, bool channelsLast, bool withBias, int threads)
    {
        var s = new Conv2dShape(cin, h, w, cout, k, stride, pad);
        float[] x = Reference.Random((int)s.InputLength, 1 + cin, 2f);
        float[] weight = Reference.Random(cout * s.Columns, 2 + cout, 1f / MathF.Sqrt(s.Columns) * 2);
        float[] bias = withBias ? Reference.Random(cout, 3) : [];
        using var buf = NativeBuffer.FromFloats(weight, cout, s.Columns, DType.F32);
        using var ctx = new KernelContext(threads);
        var y = new float[s.OutputLength];
        Conv2d.Forward(y, x, s, channelsLast, buf.AsMatrix(cout, s.Columns, DType.F32), bias, ctx);
        var expect = new float[s.OutputLength];
        Conv2d.ForwardScalar(expect, x, s, channelsLast, weight, bias);
        for (int i = 0; i < y.Length; i++) Assert.True(Math.Abs(y[i] - expect[i]) <= 1e-4, $"y[{i}] = {y[i]}, expected {expect[i]}");
    }

    [Fact]
    public void ForwardScalar_KnownKernel_GivesHandComputedSums()
    {
        // 1 channel 3x3 input, 3x3 all-ones kernel, padding 1, stride 2: corners of the padded sums
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        var s = new Conv2dShape(1, 3, 3, 1, 3, 2, 1);
        var y = new float[4];
        Conv2d.ForwardScalar(y, x, s, false, Enumerable.Repeat(1f, 9).ToArray(), []);
        Assert.Equal([1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9], y);
    }

    [Fact]
    public void Forward_WrongWeightShape_Throws()
    {
        var s = new Conv2dShape(2, 4, 4, 3, 3, 1, 1);
        using var buf = NativeBuffer.FromFloats(new float[3 * 17], 3, 17, DType.F32);
        using var ctx = new KernelContext(1);
        Assert.Throws<ArgumentException>(() => Conv2d.Forward(new float[48], new float[32], s, true, buf.AsMatrix(3, 17, DType.F32), [], ctx));
    }
}
