// erf as a fixed-coefficient fit, fast enough to run per element over activations (GELU with the exact-erf
// definition, PyTorch nn.GELU / F.gelu default): Numerical Recipes' erfc Chebyshev fit, |error| ≈ 1.2e-7, in double
// and on 16 float lanes. Ops.Erf is the exact series, kept as the reference; the autograd tape's GeluErf and
// Ops.GeluErfFit share these.
using System.Runtime.Intrinsics;

namespace Furnace.Tensors;

public static class ErfFit
{
    // erf to ~1.2e-7 (Numerical Recipes erfc, Chebyshev fit): Ops.Erf's series is exact but too slow per element
    public static double Erf(double x)
    {
        double z = Math.Abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double r = t * Math.Exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806
            + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1.0 - r : r - 1.0;
    }

    // the same fit on 16 lanes in float: |error| ~1e-7 (the fit) + float rounding of 1 − erfc
    public static Vector512<float> Erf(Vector512<float> x)
    {
        var z = Vector512.Abs(x);
        var t = Vector512<float>.One / (Vector512<float>.One + Vector512.Create(0.5f) * z);
        var poly = Vector512.Create(0.17087277f);
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(-0.82215223f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(1.48851587f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(-1.13520398f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(0.27886807f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(-0.18628806f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(0.09678418f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(0.37409196f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(1.00002368f));
        poly = Vector512.FusedMultiplyAdd(poly, t, Vector512.Create(-1.26551223f));
        var r = t * Vector512.Exp(poly - z * z); // erfc(|x|)
        var e = Vector512<float>.One - r;
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<float>.Zero), e, -e);
    }
}
