// Element-wise kernels of the optimiser (torch/optim/adamw.py `_single_tensor_adamw`, torch 1.13) and of gradient
// clipping (torch/nn/utils/clip_grad.py): Vector512 -> Vector256 -> scalar, each with a scalar twin for the tests.
// The AdamW update evaluates torch's operations in torch's order and rounding (no fused multiply-add), so every path
// gives the same bits as the scalar twin; the sum of squares accumulates in double.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Furnace.Tensors;

public static unsafe class OptimizerKernels
{
    /// <summary>
    /// One AdamW step over a parameter p (n,) with gradient g (n,) and moments m, v (n,), in place:
    ///   p *= decay;  m = m·β1 + g·(1 − β1);  v = v·β2 + g·g·(1 − β2);  p += −stepSize · m / (sqrt(v) / bc2Sqrt + eps)
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static void AdamW(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, in AdamWCoefficients c)
    {
        int n = p.Length;
        if (g.Length != n || m.Length != n || v.Length != n) throw new ArgumentException($"AdamW over {n} values needs g, m and v of that length (got {g.Length}, {m.Length}, {v.Length})");
        float decay = c.Decay, beta1 = c.Beta1, beta2 = c.Beta2, a1 = c.OneMinusBeta1, a2 = c.OneMinusBeta2, neg = -c.StepSize, bc2Sqrt = c.Bc2Sqrt, eps = c.Eps;
        fixed (float* pp = p, pg = g, pm = m, pv = v)
        {
            int i = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> vd = Vector512.Create(decay), b1 = Vector512.Create(beta1), b2 = Vector512.Create(beta2), c1 = Vector512.Create(a1),
                    c2 = Vector512.Create(a2), bc = Vector512.Create(bc2Sqrt), e = Vector512.Create(eps), s = Vector512.Create(neg);
                for (; i <= n - 16; i += 16)
                {
                    var gi = Vector512.Load(pg + i);
                    var pi = Vector512.Load(pp + i) * vd;
                    var mi = Vector512.Load(pm + i) * b1 + gi * c1;
                    var vi = Vector512.Load(pv + i) * b2 + gi * gi * c2;
                    var denom = Vector512.Sqrt(vi) / bc + e;
                    (pi + s * (mi / denom)).Store(pp + i);
                    mi.Store(pm + i);
                    vi.Store(pv + i);
                }
            }
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> vd = Vector256.Create(decay), b1 = Vector256.Create(beta1), b2 = Vector256.Create(beta2), c1 = Vector256.Create(a1),
                    c2 = Vector256.Create(a2), bc = Vector256.Create(bc2Sqrt), e = Vector256.Create(eps), s = Vector256.Create(neg);
                for (; i <= n - 8; i += 8)
                {
                    var gi = Vector256.Load(pg + i);
                    var pi = Vector256.Load(pp + i) * vd;
                    var mi = Vector256.Load(pm + i) * b1 + gi * c1;
                    var vi = Vector256.Load(pv + i) * b2 + gi * gi * c2;
                    var denom = Vector256.Sqrt(vi) / bc + e;
                    (pi + s * (mi / denom)).Store(pp + i);
                    mi.Store(pm + i);
                    vi.Store(pv + i);
                }
            }
            for (; i < n; i++) AdamWOne(ref pp[i], pg[i], ref pm[i], ref pv[i], decay, beta1, beta2, a1, a2, neg, bc2Sqrt, eps);
        }
    }

    /// <summary>The scalar twin of AdamW.</summary>
    public static void AdamWScalar(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, in AdamWCoefficients c)
    {
        for (int i = 0; i < p.Length; i++) AdamWOne(ref p[i], g[i], ref m[i], ref v[i], c.Decay, c.Beta1, c.Beta2, c.OneMinusBeta1, c.OneMinusBeta2, -c.StepSize, c.Bc2Sqrt, c.Eps);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AdamWOne(ref float p, float g, ref float m, ref float v, float decay, float beta1, float beta2, float a1, float a2, float neg, float bc2Sqrt, float eps)
    {
        float pi = p * decay;
        float mi = m * beta1 + g * a1;
        float vi = v * beta2 + g * g * a2;
        float denom = MathF.Sqrt(vi) / bc2Sqrt + eps;
        p = pi + neg * (mi / denom);
        m = mi;
        v = vi;
    }

    /// <summary>Σ x², accumulated in double (lanes of float squares summed into double partials every 16 elements).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static double SumOfSquares(ReadOnlySpan<float> x)
    {
        int n = x.Length, i = 0;
        double sum = 0;
        fixed (float* px = x)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var acc = Vector512<double>.Zero;
                for (; i <= n - 16; i += 16)
                {
                    var (lo, hi) = Vector512.Widen(Vector512.Load(px + i));
                    acc += lo * lo + hi * hi;
                }
                sum = Vector512.Sum(acc);
            }
            else if (Vector256.IsHardwareAccelerated)
            {
                var acc = Vector256<double>.Zero;
                for (; i <= n - 8; i += 8)
                {
                    var (lo, hi) = Vector256.Widen(Vector256.Load(px + i));
                    acc += lo * lo + hi * hi;
                }
                sum = Vector256.Sum(acc);
            }
            for (; i < n; i++) sum += (double)px[i] * px[i];
        }
        return sum;
    }

    /// <summary>The scalar twin of SumOfSquares.</summary>
    public static double SumOfSquaresScalar(ReadOnlySpan<float> x)
    {
        double sum = 0;
        foreach (float f in x) sum += (double)f * f;
        return sum;
    }

    /// <summary>x (n,) *= s, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Scale(Span<float> x, float s)
    {
        int n = x.Length, i = 0;
        fixed (float* px = x)
        {
            if (Vector512.IsHardwareAccelerated)
            {
                var vs = Vector512.Create(s);
                for (; i <= n - 16; i += 16) (Vector512.Load(px + i) * vs).Store(px + i);
            }
            if (Vector256.IsHardwareAccelerated)
            {
                var vs = Vector256.Create(s);
                for (; i <= n - 8; i += 8) (Vector256.Load(px + i) * vs).Store(px + i);
            }
            for (; i < n; i++) px[i] *= s;
        }
    }
}
