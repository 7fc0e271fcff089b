// Ops.Dot / Ops.Axpy against scalar twins, and WeightMatrix.Slice (one expert of a stack) against the whole matrix.
// Tolerances: Dot 1e-6 of the sum of |a_i·b_i| (lane-wise FMA order differs from the double twin); Axpy 1 ulp-level (FMA).
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class DotAxpySliceTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(16)]
    [InlineData(45)]
    [InlineData(576)]
    public void Dot_RandomVectors_MatchesScalarTwin(int n)
    {
        float[] a = Reference.Random(n, n, 2f), b = Reference.Random(n, n + 7, 2f);
        double mag = a.Zip(b, (x, y) => Math.Abs((double)x * y)).Sum();
        Assert.True(Math.Abs(Ops.Dot(a, b) - Ops.DotScalar(a, b)) <= 1e-6 * mag + 1e-7, $"n={n}");
    }

    [Fact]
    public void Axpy_OddLength_MatchesFusedScalar()
    {
        float[] y = Reference.Random(37, 1), x = Reference.Random(37, 2);
        float[] expect = y.Zip(x, (a, b) => MathF.FusedMultiplyAdd(0.75f, b, a)).ToArray();
        Ops.Axpy(y, 0.75f, x);
        Assert.Equal(expect, y);
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.Q8_0)]
    public void Slice_MiddleExpertOfStack_EqualsThoseRowsOfTheWholeMatrix(DType type)
    {
        const int experts = 4, rows = 8, cols = 64;
        float[] wf = Reference.Random(experts * rows * cols, 9);
        float[] x = Reference.Random(cols, 10);
        using var buf = NativeBuffer.FromFloats(wf, experts * rows, cols, type);
        WeightMatrix all = buf.AsMatrix(experts * rows, cols, type);
        using var ctx = new KernelContext(1);
        var whole = new float[experts * rows];
        var part = new float[rows];
        MatMul.Forward(whole, x, 1, all, ctx);
        MatMul.Forward(part, x, 1, all.Slice(2 * rows, rows), ctx);
        Assert.Equal(whole.AsSpan(2 * rows, rows).ToArray(), part);
        Assert.Throws<ArgumentOutOfRangeException>(() => all.Slice(3 * rows, rows + 1));
    }
}
