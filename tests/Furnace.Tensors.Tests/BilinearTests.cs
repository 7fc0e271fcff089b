// Bilinear.Resize and Linear1D against PyTorch's align_corners=False rule written out directly (source coordinate
// (o + 0.5)·in/out - 0.5 clamped at 0, neighbours floor and floor+1 clamped to the edge), in double; up- and
// downscaling, non-square maps. The PyTorch oracle for the same rule is in Furnace.Tests (SamOracleTests).
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class BilinearTests
{
    [Theory]
    [InlineData(8, 8, 96, 96, 5, 2)]  // SAM's neck resize from a small grid
    [InlineData(7, 5, 3, 9, 17, 1)]   // down in height, up in width
    [InlineData(1, 4, 2, 4, 3, 2)]    // single input row
    public void Resize_RandomMap_MatchesDirectFormula(int inH, int inW, int outH, int outW, int c, int threads)
    {
        float[] x = Reference.Random(inH * inW * c, inH * 31 + inW);
        var y = new float[outH * outW * c];
        using var ctx = new KernelContext(threads);
        Bilinear.Resize(y, x, inH, inW, outH, outW, c, ctx);
        for (int oy = 0; oy < outH; oy++)
        for (int ox = 0; ox < outW; ox++)
        for (int ch = 0; ch < c; ch++)
        {
            var (y0, y1, fy) = Coord(oy, inH, outH);
            var (x0, x1, fx) = Coord(ox, inW, outW);
            double At(int yy, int xx) => x[(yy * inW + xx) * c + ch];
            double e = (1 - fy) * ((1 - fx) * At(y0, x0) + fx * At(y0, x1)) + fy * ((1 - fx) * At(y1, x0) + fx * At(y1, x1));
            float got = y[(oy * outW + ox) * c + ch];
            Assert.True(Math.Abs(got - e) <= 1e-6, $"y[{oy},{ox},{ch}] = {got}, expected {e}");
        }
    }

    [Fact]
    public void Linear1D_SameLength_IsIdentity_AndHalvingAveragesPairs()
    {
        float[] x = [1, 2, 3, 4, 10, 20, 30, 40];
        Assert.Equal(x, Bilinear.Linear1D(x, 4, 2, 4));
        // 4 -> 2 rows: src = 0.5 and 2.5, the means of rows (0,1) and (2,3)
        Assert.Equal([2, 3, 20, 30], Bilinear.Linear1D(x, 4, 2, 2));
    }

    private static (int I0, int I1, double F) Coord(int o, int n, int m)
    {
        double src = (o + 0.5) * ((double)n / m) - 0.5;
        if (src < 0) src = 0;
        int i0 = (int)Math.Floor(src);
        int i1 = Math.Min(i0 + 1, n - 1);
        return (i0, i1, src - i0);
    }
}
