// Element-wise and row-wise float kernels used by the transformer layers (ggml ops.cpp: rms_norm, norm,
// soft_max, silu, gelu). Reductions accumulate in double as ggml does (ggml_float); the element-wise
// passes use the SIMD primitives of Vec. LayerNorm, QuickGelu and SoftmaxVec (CLIP's ops) run on Vector512 where
// it is accelerated, with partial sums per lane reduced in double; their scalar twins stay for other widths.
using System.Runtime.Intrinsics;

namespace Furnace.Tensors;

public static unsafe class Ops
{
    // y (n,) = x / sqrt(mean(x^2) + eps) * w
    public static void RmsNorm(Span<float> y, ReadOnlySpan<float> x, ReadOnlySpan<float> w, float eps)
    {
        double ss = 0;
        for (int i = 0; i < x.Length; i++) ss += (double)x[i] * x[i];
        float scale = (float)(1.0 / Math.Sqrt(ss / x.Length + eps));
        if (y.Length < x.Length || w.Length < x.Length) throw new ArgumentException($"rms norm of {x.Length} values needs y and w of that length");
        fixed (float* py = y, px = x, pw = w) Vec.ScaleMul(py, px, scale, pw, x.Length);
    }

    // y (n,) = (x - mean) / sqrt(var + eps) * w + b
    public static void LayerNorm(Span<float> y, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, float eps)
    {
        int n = x.Length;
        if (y.Length < n || w.Length < n || b.Length < n) throw new ArgumentException($"layer norm of {n} values needs y, w and b of that length");
        if (!Vector512.IsHardwareAccelerated || n < 16)
        {
            LayerNormScalar(y, x, w, b, eps);
            return;
        }
        fixed (float* py = y, px = x, pw = w, pb = b)
        {
            int i = 0;
            var acc = Vector512<float>.Zero;
            for (; i + 16 <= n; i += 16) acc += Vector512.Load(px + i);
            double mean = Vector512.Sum(acc);
            for (; i < n; i++) mean += px[i];
            mean /= n;
            var m = Vector512.Create((float)mean);
            acc = Vector512<float>.Zero;
            for (i = 0; i + 16 <= n; i += 16)
            {
                var dv = Vector512.Load(px + i) - m;
                acc = Vector512.FusedMultiplyAdd(dv, dv, acc);
            }
            double var = Vector512.Sum(acc);
            for (; i < n; i++) var += (px[i] - mean) * (px[i] - mean);
            var /= n;
            float inv = (float)(1.0 / Math.Sqrt(var + eps));
            var vi = Vector512.Create(inv);
            for (i = 0; i + 16 <= n; i += 16)
                Vector512.FusedMultiplyAdd((Vector512.Load(px + i) - m) * vi, Vector512.Load(pw + i), Vector512.Load(pb + i)).Store(py + i);
            for (; i < n; i++) py[i] = (float)(px[i] - mean) * inv * pw[i] + pb[i];
        }
    }

    // the scalar twin of LayerNorm, double accumulation
    public static void LayerNormScalar(Span<float> y, ReadOnlySpan<float> x, ReadOnlySpan<float> w, ReadOnlySpan<float> b, float eps)
    {
        double mean = 0;
        for (int i = 0; i < x.Length; i++) mean += x[i];
        mean /= x.Length;
        double var = 0;
        for (int i = 0; i < x.Length; i++) var += (x[i] - mean) * (x[i] - mean);
        var /= x.Length;
        float inv = (float)(1.0 / Math.Sqrt(var + eps));
        for (int i = 0; i < x.Length; i++) y[i] = (float)(x[i] - mean) * inv * w[i] + b[i];
    }

    // x (n,) = softmax(x), in place, on Vector512 (Vector512.Exp) where accelerated; Softmax is the scalar twin
    public static void SoftmaxVec(Span<float> x)
    {
        int n = x.Length;
        if (!Vector512.IsHardwareAccelerated || n < 16)
        {
            Softmax(x);
            return;
        }
        fixed (float* p = x)
        {
            int i = 0;
            var mx = Vector512.Create(float.NegativeInfinity);
            for (; i + 16 <= n; i += 16) mx = Vector512.Max(mx, Vector512.Load(p + i));
            float max = float.NegativeInfinity;
            for (int l = 0; l < 16; l++) max = MathF.Max(max, mx[l]);
            for (; i < n; i++) max = MathF.Max(max, p[i]);
            var vm = Vector512.Create(max);
            var acc = Vector512<float>.Zero;
            for (i = 0; i + 16 <= n; i += 16)
            {
                var e = Vector512.Exp(Vector512.Load(p + i) - vm);
                e.Store(p + i);
                acc += e;
            }
            double sum = Vector512.Sum(acc);
            for (; i < n; i++) { p[i] = MathF.Exp(p[i] - max); sum += p[i]; }
            var inv = Vector512.Create((float)(1.0 / sum));
            for (i = 0; i + 16 <= n; i += 16) (Vector512.Load(p + i) * inv).Store(p + i);
            for (; i < n; i++) p[i] *= inv[0];
        }
    }

    // x (n,) = softmax(x), in place
    public static void Softmax(Span<float> x)
    {
        float max = float.NegativeInfinity;
        foreach (float v in x) max = MathF.Max(max, v);
        double sum = 0;
        for (int i = 0; i < x.Length; i++) { x[i] = MathF.Exp(x[i] - max); sum += x[i]; }
        float inv = (float)(1.0 / sum);
        for (int i = 0; i < x.Length; i++) x[i] *= inv;
    }

    // gate (n,) = silu(gate) * up
    public static void SiluMul(Span<float> gate, ReadOnlySpan<float> up)
    {
        for (int i = 0; i < gate.Length; i++) gate[i] = gate[i] / (1f + MathF.Exp(-gate[i])) * up[i];
    }

    public static void Silu(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = x[i] / (1f + MathF.Exp(-x[i]));
    }

    // GELU, tanh approximation (PyTorch approximate='tanh', ggml_gelu), on Vector512 where accelerated through
    // ½(1 + tanh(u)) = σ(2u): x / (1 + exp(-2u)), u = √(2/π)(x + 0.044715x³). GeluTanhScalar is the twin.
    public static void GeluTanh(Span<float> x)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var m2c = Vector512.Create(-2f * 0.7978845608028654f);
            var a = Vector512.Create(0.044715f);
            var one = Vector512<float>.One;
            fixed (float* p = x)
                for (; i + 16 <= x.Length; i += 16)
                {
                    var v = Vector512.Load(p + i);
                    (v / (one + Vector512.Exp(m2c * (v + a * v * v * v)))).Store(p + i);
                }
        }
        GeluTanhScalar(x.Slice(i));
    }

    // the scalar twin of GeluTanh (the tanh form)
    public static void GeluTanhScalar(Span<float> x)
    {
        const float c = 0.7978845608028654f; // sqrt(2/pi)
        for (int i = 0; i < x.Length; i++)
        {
            float v = x[i];
            x[i] = 0.5f * v * (1f + MathF.Tanh(c * (v + 0.044715f * v * v * v)));
        }
    }

    // GELU with the exact erf (PyTorch default)
    public static void GeluErf(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = (float)(0.5 * x[i] * (1.0 + Erf(x[i] / Math.Sqrt(2.0))));
    }

    // GELU with erf from ErfFit (|erf error| ~1.2e-7) on Vector512 where accelerated: the exact-erf GELU at the cost of
    // an exp per element; GeluErf (the series) is its reference
    public static void GeluErfFit(Span<float> x)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var half = Vector512.Create(0.5f);
            var s = Vector512.Create(0.70710678f);
            fixed (float* p = x)
                for (; i + 16 <= x.Length; i += 16)
                {
                    var v = Vector512.Load(p + i);
                    (half * v * (Vector512<float>.One + ErfFit.Erf(v * s))).Store(p + i);
                }
        }
        for (; i < x.Length; i++) x[i] = (float)(0.5 * x[i] * (1.0 + ErfFit.Erf(x[i] * 0.7071067811865476)));
    }

    // quick-GELU of CLIP: x * sigmoid(1.702 x)
    public static void QuickGelu(Span<float> x)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var k = Vector512.Create(-1.702f);
            var one = Vector512<float>.One;
            fixed (float* p = x)
                for (; i + 16 <= x.Length; i += 16)
                {
                    var v = Vector512.Load(p + i);
                    (v / (one + Vector512.Exp(k * v))).Store(p + i);
                }
        }
        for (; i < x.Length; i++) x[i] = x[i] / (1f + MathF.Exp(-1.702f * x[i]));
    }

    // the scalar twin of QuickGelu
    public static void QuickGeluScalar(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = x[i] / (1f + MathF.Exp(-1.702f * x[i]));
    }

    // y (n,) += a * x: the weighted sum of attention values (ggml_vec_mad_f32)
    public static void Axpy(Span<float> y, float a, ReadOnlySpan<float> x)
    {
        if (x.Length < y.Length) throw new ArgumentException($"axpy of {y.Length} values got {x.Length}");
        fixed (float* py = y, px = x) Vec.Axpy(py, a, px, y.Length);
    }

    // a (n,) . b (n,), accumulated in eight (Vector256) or sixteen (Vector512) lanes, then summed
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (b.Length < a.Length) throw new ArgumentException($"dot of {a.Length} values got {b.Length}");
        int n = a.Length, i = 0;
        float sum = 0;
        fixed (float* pa = a, pb = b)
        {
            if (Vector512.IsHardwareAccelerated && n >= 16)
            {
                var acc = Vector512<float>.Zero;
                for (; i <= n - 16; i += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(pa + i), Vector512.Load(pb + i), acc);
                sum = Vector512.Sum(acc);
            }
            else if (Vector256.IsHardwareAccelerated && n >= 8)
            {
                var acc = Vector256<float>.Zero;
                for (; i <= n - 8; i += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(pa + i), Vector256.Load(pb + i), acc);
                sum = Vector256.Sum(acc);
            }
            for (; i < n; i++) sum = MathF.FusedMultiplyAdd(pa[i], pb[i], sum);
        }
        return sum;
    }

    // the scalar twin of Dot
    public static float DotScalar(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)a[i] * b[i];
        return (float)sum;
    }

    // y += x
    public static void Add(Span<float> y, ReadOnlySpan<float> x)
    {
        if (x.Length < y.Length) throw new ArgumentException($"add of {y.Length} values got {x.Length}");
        fixed (float* py = y, px = x) Vec.Add(py, px, y.Length);
    }

    // Abramowitz-Stegun 7.1.26 is too coarse for 1e-6 checks; use a series/continued-fraction pair.
    public static double Erf(double x)
    {
        double ax = Math.Abs(x);
        double r;
        if (ax < 2.5)
        {
            // Maclaurin series
            double sum = ax, term = ax, x2 = ax * ax;
            for (int n = 1; n < 60; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            r = 2.0 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // continued fraction for erfc
            double f = 0;
            for (int n = 60; n >= 1; n--) f = n / 2.0 / (ax + f);
            r = 1.0 - Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / (ax + f);
        }
        return x < 0 ? -r : r;
    }
}
