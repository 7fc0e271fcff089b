// Test support: compares a gradient (or any tensor) with a float64 reference relative to the reference's largest
// magnitude, the per-tensor tolerance gradient oracles use (elementwise relative error is meaningless near zero).
namespace Furnace.Tests.Support;

public static class GradientAssert
{
    /// <summary>max |got − expected| within tol × max |expected| (and expected not all zero).</summary>
    public static void Close(string name, float[] got, double[] expected, double tol)
    {
        Assert.Equal(expected.Length, got.Length);
        double scale = expected.Max(Math.Abs), worst = 0;
        Assert.True(scale > 0, $"{name}: the reference is all zero");
        for (int i = 0; i < got.Length; i++) worst = Math.Max(worst, Math.Abs(got[i] - expected[i]));
        Assert.True(worst <= tol * scale, $"{name}: max difference {worst:E3} exceeds {tol:E0} x {scale:E3}");
    }
}
