// Ops kernels against double-precision twins. Tolerances: 1e-6 relative for norms, exact for Add.
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class OpsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(37)]
    [InlineData(768)]
    public void RmsNorm_RandomRow_MatchesDoubleReference(int n)
    {
        float[] x = Reference.Random(n, n, 3f);
        float[] w = Reference.Random(n, n + 1);
        var y = new float[n];
        Ops.RmsNorm(y, x, w, 1e-5f);
        double ss = x.Sum(v => (double)v * v);
        double scale = 1 / Math.Sqrt(ss / n + 1e-5);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(y[i] - x[i] * scale * w[i]) <= 1e-6 * (1 + Math.Abs(x[i] * scale * w[i])));
    }

    [Theory]
    [InlineData(1000)] // Vector512 lanes and a scalar tail
    [InlineData(7)]    // scalar path only
    public void GeluErfFit_RandomRow_MatchesExactGelu(int n)
    {
        float[] x = Reference.Random(n, 21, 6f);
        float[] fit = (float[])x.Clone(), exact = (float[])x.Clone();
        Ops.GeluErfFit(fit);
        Ops.GeluErf(exact);
        for (int i = 0; i < n; i++)
            Assert.True(Math.Abs(fit[i] - exact[i]) <= 2e-7 * Math.Max(1, Math.Abs(x[i])), $"gelu({x[i]}) = {fit[i]}, exact {exact[i]}");
    }

    [Fact]
    public void Add_OddLength_ElementwiseExact()
    {
        float[] y = Reference.Random(53, 1);
        float[] x = Reference.Random(53, 2);
        float[] expect = y.Zip(x, (a, b) => a + b).ToArray();
        Ops.Add(y, x);
        Assert.Equal(expect, y);
    }

    [Fact]
    public void Softmax_RandomRow_SumsToOneAndMatchesReference()
    {
        float[] x = Reference.Random(41, 3, 10f);
        double max = x.Max();
        double[] e = x.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        Ops.Softmax(x);
        for (int i = 0; i < x.Length; i++) Assert.True(Math.Abs(x[i] - e[i] / sum) <= 1e-6);
    }

    [Fact]
    public void LayerNorm_RandomRow_MatchesDoubleReference()
    {
        float[] x = Reference.Random(77, 4, 2f);
        float[] w = Reference.Random(77, 5);
        float[] b = Reference.Random(77, 6);
        var y = new float[77];
        Ops.LayerNorm(y, x, w, b, 1e-5f);
        double mean = x.Average(v => (double)v);
        double var = x.Average(v => (v - mean) * (v - mean));
        for (int i = 0; i < 77; i++)
            Assert.True(Math.Abs(y[i] - ((x[i] - mean) / Math.Sqrt(var + 1e-5) * w[i] + b[i])) <= 1e-5);
    }

    [Theory]
    [InlineData(7)]
    [InlineData(577)]
    [InlineData(1024)]
    public void VectorTwins_RandomRows_MatchScalarAndDouble(int n)
    {
        float[] x = Reference.Random(n, 40 + n, 6f);
        float[] w = Reference.Random(n, 41 + n);
        float[] b = Reference.Random(n, 42 + n);
        float[] y1 = new float[n], y2 = new float[n];
        Ops.LayerNorm(y1, x, w, b, 1e-5f);
        Ops.LayerNormScalar(y2, x, w, b, 1e-5f);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(y1[i] - y2[i]) <= 1e-5 * (1 + Math.Abs(y2[i])), $"layer norm [{i}] {y1[i]} vs {y2[i]}");

        float[] s1 = (float[])x.Clone(), s2 = (float[])x.Clone();
        Ops.SoftmaxVec(s1);
        Ops.Softmax(s2);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(s1[i] - s2[i]) <= 1e-6 + 1e-5 * s2[i], $"softmax [{i}] {s1[i]} vs {s2[i]}");

        float[] g1 = (float[])x.Clone(), g2 = (float[])x.Clone();
        Ops.QuickGelu(g1);
        Ops.QuickGeluScalar(g2);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(g1[i] - g2[i]) <= 1e-6 * (1 + Math.Abs(g2[i])), $"quick gelu [{i}] {g1[i]} vs {g2[i]}");

        float[] t1 = (float[])x.Clone(), t2 = (float[])x.Clone();
        Ops.GeluTanh(t1);     // sigmoid form on Vector512
        Ops.GeluTanhScalar(t2); // tanh form
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(t1[i] - t2[i]) <= 1e-6 * (1 + Math.Abs(t2[i])), $"gelu tanh [{i}] {t1[i]} vs {t2[i]}");
    }
}
