// MatMulPanel (pre-packed f32 GEMM with bias / residual epilogues) against its scalar twin MatMulPanel.ForwardScalar,
// which sums fma(x, w) in the same k order and adds bias then y the same way: the results must be bit-identical.
// Shapes cover partial token tiles (t not a multiple of 8), a partial last panel (rows not a multiple of 32),
// t = 1, odd and long column counts and 1-3 threads.
using System.Runtime.Intrinsics;
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class MatMulPanelTests
{
    public static TheoryData<int, int, int, int, bool, bool> Cases() => new()
    {
        { 32, 16, 1, 1, false, false },
        { 64, 83, 7, 2, true, false },
        { 70, 48, 50, 2, true, true },   // ViT-B/32-like token count, 2 full panels + 6 rows
        { 96, 130, 9, 3, false, true },
        { 40, 64, 17, 1, true, true },
        { 64, 300, 13, 2, true, true },
        { 33, 257, 8, 2, false, true },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_RandomWeights_BitIdenticalToScalarTwin(int rows, int cols, int t, int threads, bool withBias, bool accumulate)
    {
        if (!Vector512.IsHardwareAccelerated) return; // PanelMatrix.Supports is false there; callers keep MatMul.Forward
        float[] wf = Reference.Random(rows * cols, 300 + rows);
        float[] x = Reference.Random(t * cols, 400 + t, 2f);
        float[] bias = withBias ? Reference.Random(rows, 500) : [];
        float[] start = Reference.Random(t * rows, 600);
        using var buf = NativeBuffer.FromFloats(wf, rows, cols, DType.F32);
        WeightMatrix w = buf.AsMatrix(rows, cols, DType.F32);
        using var ctx = new KernelContext(threads);
        using PanelMatrix p = PanelMatrix.Pack(w, ctx);
        float[] y = (float[])start.Clone(), expect = (float[])start.Clone();
        MatMulPanel.Forward(y, x, t, p, bias, accumulate, ctx);
        MatMulPanel.ForwardScalar(expect, x, t, w, bias, accumulate);
        for (int i = 0; i < y.Length; i++) Assert.True(y[i] == expect[i], $"y[{i}] = {y[i]}, twin {expect[i]}");
    }

    [Fact]
    public void Forward3_SharedInput_EqualsThreeSingleProducts()
    {
        if (!Vector512.IsHardwareAccelerated) return;
        const int rows = 64, cols = 48, t = 11;
        using var ctx = new KernelContext(2);
        float[] x = Reference.Random(t * cols, 7);
        var bufs = new NativeBuffer[3];
        var panels = new PanelMatrix[3];
        var biases = new float[3][];
        try
        {
            for (int i = 0; i < 3; i++)
            {
                bufs[i] = NativeBuffer.FromFloats(Reference.Random(rows * cols, 10 + i), rows, cols, DType.F32);
                panels[i] = PanelMatrix.Pack(bufs[i].AsMatrix(rows, cols, DType.F32), ctx);
                biases[i] = Reference.Random(rows, 20 + i);
            }
            float[] y0 = new float[t * rows], y1 = new float[t * rows], y2 = new float[t * rows];
            MatMulPanel.Forward3(y0, y1, y2, x, t, panels[0], panels[1], panels[2], biases[0], biases[1], biases[2], ctx);
            float[][] got = [y0, y1, y2];
            for (int i = 0; i < 3; i++)
            {
                var expect = new float[t * rows];
                MatMulPanel.ForwardScalar(expect, x, t, bufs[i].AsMatrix(rows, cols, DType.F32), biases[i], accumulate: false);
                Assert.Equal(expect, got[i]);
            }
        }
        finally
        {
            foreach (PanelMatrix? p in panels) p?.Dispose();
            foreach (NativeBuffer? b in bufs) b?.Dispose();
        }
    }

    [Fact]
    public void Forward_InputPackedRowByRow_EqualsForwardOnRows()
    {
        if (!Vector512.IsHardwareAccelerated) return;
        const int rows = 64, cols = 40, t = 13; // a partial last tile: its padding rows must not leak into outputs
        float[] x = Reference.Random(t * cols, 31);
        float[] bias = Reference.Random(rows, 32);
        using var buf = NativeBuffer.FromFloats(Reference.Random(rows * cols, 33), rows, cols, DType.F32);
        using var ctx = new KernelContext(2);
        using PanelMatrix p = PanelMatrix.Pack(buf.AsMatrix(rows, cols, DType.F32), ctx);
        float[] expect = new float[t * rows], got = new float[t * rows];
        MatMulPanel.Forward(expect, x, t, p, bias, accumulate: false, ctx);
        PanelInput input = MatMulPanel.Input(ctx, t, cols);
        for (int r = t - 1; r >= 0; r--) input.PackRow(r, x.AsSpan(r * cols, cols)); // any order
        MatMulPanel.Forward(got, input, p, bias, accumulate: false, ctx);
        Assert.Equal(expect, got);
        Assert.Throws<ArgumentOutOfRangeException>(() => MatMulPanel.Input(ctx, t, cols).PackRow(t, x.AsSpan(0, cols)));
    }

    [Fact]
    public void Pack_Bf16Matrix_Throws()
    {
        using var buf = NativeBuffer.FromFloats(Reference.Random(32 * 16, 1), 32, 16, DType.BF16);
        using var ctx = new KernelContext(1);
        Assert.Throws<ArgumentException>(() => PanelMatrix.Pack(buf.AsMatrix(32, 16, DType.BF16), ctx));
    }
}
