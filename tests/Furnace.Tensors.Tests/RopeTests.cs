// Rope.Apply against a double-precision RoFormer reference for both pairings, and Llama-3 frequency factors
// against hand-computed values (HF _compute_llama3_parameters). Tolerance 2e-4: the kernel accumulates theta in
// float as ggml does, which drifts by a few ulp per dim at larger positions.
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class RopeTests
{
    [Theory]
    [InlineData(RopeStyle.Interleaved, 64, 64, 0)]
    [InlineData(RopeStyle.Interleaved, 64, 64, 37)]
    [InlineData(RopeStyle.HalfSplit, 64, 64, 37)]
    [InlineData(RopeStyle.HalfSplit, 80, 32, 99)] // partial rotary dims: the rest of the head is untouched
    public void Apply_RandomHeads_MatchesDoubleReference(RopeStyle style, int headDim, int rotary, int pos)
    {
        const int nHeads = 3;
        const float theta = 10000f;
        float[] x = Reference.Random(nHeads * headDim, pos + 1);
        float[] y = (float[])x.Clone();
        var table = new RopeTable(rotary, 128, theta);
        Rope.Apply(y, nHeads, headDim, pos, table, style);
        int half = rotary / 2;
        for (int h = 0; h < nHeads; h++)
        {
            var expect = x.AsSpan(h * headDim, headDim).ToArray().Select(v => (double)v).ToArray();
            for (int i = 0; i < half; i++)
            {
                double a = pos * Math.Pow(theta, -2.0 * i / rotary);
                int p0 = style == RopeStyle.Interleaved ? 2 * i : i;
                int p1 = style == RopeStyle.Interleaved ? 2 * i + 1 : i + half;
                double x0 = x[h * headDim + p0], x1 = x[h * headDim + p1];
                expect[p0] = x0 * Math.Cos(a) - x1 * Math.Sin(a);
                expect[p1] = x0 * Math.Sin(a) + x1 * Math.Cos(a);
            }
            for (int d = 0; d < headDim; d++)
                Assert.True(Math.Abs(y[h * headDim + d] - expect[d]) <= 2e-4, $"{style} head {h} dim {d}: {y[h * headDim + d]} vs {expect[d]}");
        }
    }

    [Fact]
    public void Llama3FreqFactors_Llama31Settings_MatchHandComputedValues()
    {
        // theta 500000, factor 8, low 1, high 4, original 8192: high-frequency dims untouched, low ones divided by 8,
        // the band in between (wavelengths 2048..8192) interpolated: 1 / ((1 - s)/8 + s), s = (8192/wavelen - 1)/3.
        float[] ff = RopeTable.Llama3FreqFactors(128, 500000f, 8f, 1f, 4f, 8192);
        Assert.Equal(64, ff.Length);
        Assert.Equal(1f, ff[0]);
        Assert.Equal(1f, ff[28]);
        Assert.Equal(1.2074839, ff[29], 5);   // wavelength 2401.74
        Assert.Equal(2.6945297, ff[32], 5);   // wavelength 4442.88
        Assert.Equal(5.2573266, ff[34], 5);   // wavelength 6695.11
        Assert.Equal(8f, ff[35]);
        Assert.Equal(8f, ff[63]);
    }

    [Fact]
    public void Table_FreqFactors_DivideTheAngle()
    {
        var ff = new float[] { 1f, 2f, 4f, 8f };
        var t = new RopeTable(8, 10, 10000f, ff);
        var plain = new RopeTable(8, 10, 10000f);
        for (int i = 0; i < 4; i++)
        {
            double a = 7 * Math.Pow(10000, -2.0 * i / 8) / ff[i];
            Assert.Equal(Math.Cos(a), t.Cos(7)[i], 5);
            Assert.Equal(Math.Sin(a), t.Sin(7)[i], 5);
        }
        Assert.Equal(plain.Cos(7)[0], t.Cos(7)[0]);
    }
}
