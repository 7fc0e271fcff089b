// Optimiser kernels against their scalar twins on seeded data: the AdamW update bit for bit (no fused multiply-add on
// any path), the sum of squares within 1e-12 relative, Scale exactly.
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class OptimizerKernelsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(45)]
    [InlineData(1031)]
    public void AdamW_VectorPaths_EqualScalarTwinBitwise(int n)
    {
        float[] p = Reference.Random(n, 1), g = Reference.Random(n, 2, 3f), m = Reference.Random(n, 3, 0.1f);
        float[] v = Reference.Random(n, 4).Select(x => x * x).ToArray();
        float[] p2 = (float[])p.Clone(), m2 = (float[])m.Clone(), v2 = (float[])v.Clone();
        var c = AdamWCoefficients.At(3, 1e-3, 0.01, 0.9, 0.999, 1e-8);
        OptimizerKernels.AdamW(p, g, m, v, c);
        OptimizerKernels.AdamWScalar(p2, g, m2, v2, c);
        Assert.Equal(p2, p);
        Assert.Equal(m2, m);
        Assert.Equal(v2, v);
    }

    [Fact]
    public void AdamW_FirstStep_MovesEachWeightByAboutLr()
    {
        // at t = 1 the bias-corrected update is lr · g/|g| (eps aside), whatever the gradient's size
        float[] p = new float[20], g = Reference.Random(20, 5, 100f), m = new float[20], v = new float[20];
        OptimizerKernels.AdamW(p, g, m, v, AdamWCoefficients.At(1, 0.01, 0, 0.9, 0.999, 1e-8));
        for (int i = 0; i < 20; i++) Assert.Equal(-0.01 * Math.Sign(g[i]), p[i], 1e-6);
    }

    [Theory]
    [InlineData(3)]
    [InlineData(100)]
    [InlineData(4099)]
    public void SumOfSquares_MatchesScalarTwin(int n)
    {
        float[] x = Reference.Random(n, 8, 5f);
        double a = OptimizerKernels.SumOfSquares(x), b = OptimizerKernels.SumOfSquaresScalar(x);
        Assert.True(Math.Abs(a - b) <= 1e-12 * b, $"{a} vs {b}");
    }

    [Fact]
    public void Scale_OddLength_Exact()
    {
        float[] x = Reference.Random(29, 9);
        float[] expect = x.Select(v => v * 0.37f).ToArray();
        OptimizerKernels.Scale(x, 0.37f);
        Assert.Equal(expect, x);
    }
}
