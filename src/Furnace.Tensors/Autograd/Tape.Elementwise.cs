// Element-wise ops of the tape with their derivatives (torch semantics):
//   silu(x) = x·σ(x)                 silu' = σ(x)·(1 + x·(1 − σ(x)))
//   gelu_tanh(x) = ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³)
//   gelu_erf(x) = ½x(1 + erf(x/√2))  gelu_erf' = ½(1 + erf(x/√2)) + x·φ(x)
//   quick_gelu(x) = x·σ(1.702x)
// Forward and backward run in parallel chunks over the elements, on Vector512 where accelerated (all but Exp and
// GeluTanh; GeluErf with a 16-lane erf fit, as the LLaVA projector runs it over tokens × 4096 values).
using System.Runtime.Intrinsics;
using static Furnace.Tensors.ErfFit;

namespace Furnace.Tensors.Autograd;

public sealed unsafe partial class Tape
{
    private const int Grain = 4096;

    private enum Unary
    {
        Exp,
        Silu,
        GeluTanh,
        GeluErf,
        QuickGelu,
    }

    private Tensor AddCore(Tensor a, Tensor b)
    {
        Check(a.Length == b.Length, $"add: a {S(a)} and b {S(b)} must have the same shape");
        bool record = Records(a, b);
        Tensor y = Output((int[])a.Shape.Clone(), record);
        fixed (float* py = y.Data, pa = a.Data, pb = b.Data)
        {
            var args = new Args { A = py, B = pa, C = pb };
            For(y.Length, &AddFwd, ref args, Grain);
        }
        if (record)
            Record(() =>
            {
                if (y.Grad is not { } gy) return;
                fixed (float* pgy = gy)
                {
                    if (GradOf(a) is { } ga) fixed (float* p = ga) AddInto(p, pgy, gy.Length);
                    if (GradOf(b) is { } gb) fixed (float* p = gb) AddInto(p, pgy, gy.Length);
                }
            });
        return y;
    }

    private static void AddFwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        int i = start;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= end; i += 16) (Vector512.Load(a->B + i) + Vector512.Load(a->C + i)).Store(a->A + i);
        for (; i < end; i++) a->A[i] = a->B[i] + a->C[i];
    }

    private Tensor AddRowCore(Tensor x, Tensor b)
    {
        Check(x.Rank >= 1 && b.Rank == 1 && x.Shape[^1] == b.Length, $"add row: x {S(x)} and b {S(b)} do not match (need (n, d) and (d,))");
        (int n, int d) = Matrix(x);
        bool record = Records(x, b);
        Tensor y = Output((int[])x.Shape.Clone(), record);
        x.Data.CopyTo(y.Data, 0);
        fixed (float* py = y.Data, pb = b.Data) AddRowInPlace(py, pb, n, d);
        if (record)
            Record(() =>
            {
                if (y.Grad is not { } gy) return;
                fixed (float* pgy = gy)
                {
                    if (GradOf(x) is { } gx) fixed (float* p = gx) AddInto(p, pgy, gy.Length);
                    if (GradOf(b) is { } gb) fixed (float* p = gb) ColumnSums(p, pgy, n, d);
                }
            });
        return y;
    }

    private Tensor MulCore(Tensor a, Tensor b)
    {
        Check(a.Length == b.Length, $"mul: a {S(a)} and b {S(b)} must have the same shape");
        bool record = Records(a, b);
        Tensor y = Output((int[])a.Shape.Clone(), record);
        fixed (float* py = y.Data, pa = a.Data, pb = b.Data)
        {
            var args = new Args { A = py, B = pa, C = pb };
            For(y.Length, &MulFwd, ref args, Grain);
        }
        if (record)
            Record(() =>
            {
                if (y.Grad is not { } gy) return;
                fixed (float* pgy = gy, pa = a.Data, pb = b.Data)
                {
                    if (GradOf(a) is { } ga) fixed (float* p = ga) MulAcc(p, pgy, pb, gy.Length);
                    if (GradOf(b) is { } gb) fixed (float* p = gb) MulAcc(p, pgy, pa, gy.Length);
                }
            });
        return y;
    }

    private static void MulFwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        int i = start;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= end; i += 16) (Vector512.Load(a->B + i) * Vector512.Load(a->C + i)).Store(a->A + i);
        for (; i < end; i++) a->A[i] = a->B[i] * a->C[i];
    }

    // g (n,) += x ⊙ y
    private void MulAcc(float* g, float* x, float* y, int n)
    {
        var args = new Args { A = g, B = x, C = y };
        For(n, &MulAccBody, ref args, Grain);
    }

    private static void MulAccBody(int start, int end, void* p)
    {
        var a = (Args*)p;
        int i = start;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= end; i += 16)
                Vector512.FusedMultiplyAdd(Vector512.Load(a->B + i), Vector512.Load(a->C + i), Vector512.Load(a->A + i)).Store(a->A + i);
        for (; i < end; i++) a->A[i] = MathF.FusedMultiplyAdd(a->B[i], a->C[i], a->A[i]);
    }

    private Tensor ScaleCore(Tensor x, float s)
    {
        bool record = Records(x);
        Tensor y = Output((int[])x.Shape.Clone(), record);
        fixed (float* py = y.Data, px = x.Data)
        {
            var args = new Args { A = py, B = px, S = s };
            For(y.Length, &ScaleFwd, ref args, Grain);
        }
        if (record)
            Record(() =>
            {
                if (y.Grad is not { } gy || GradOf(x) is not { } gx) return;
                fixed (float* pgy = gy, pgx = gx) Axpy(pgx, s, pgy, gy.Length);
            });
        return y;
    }

    private static void ScaleFwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        int i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            var s = Vector512.Create(a->S);
            for (; i + 16 <= end; i += 16) (Vector512.Load(a->B + i) * s).Store(a->A + i);
        }
        for (; i < end; i++) a->A[i] = a->B[i] * a->S;
    }

    // y (n,) += s·x
    private void Axpy(float* y, float s, float* x, int n)
    {
        var args = new Args { A = y, B = x, S = s };
        For(n, &AxpyBody, ref args, Grain);
    }

    private static void AxpyBody(int start, int end, void* p)
    {
        var a = (Args*)p;
        Vec.Axpy(a->A + start, a->S, a->B + start, end - start);
    }

    private Tensor ScaleByCore(Tensor x, Tensor s)
    {
        Check(s.Length == 1, $"scale by: s {S(s)} must hold one value");
        bool record = Records(x, s);
        Tensor y = Output((int[])x.Shape.Clone(), record);
        float sv = s.Data[0];
        fixed (float* py = y.Data, px = x.Data)
        {
            var args = new Args { A = py, B = px, S = sv };
            For(y.Length, &ScaleFwd, ref args, Grain);
        }
        if (record)
            Record(() =>
            {
                if (y.Grad is not { } gy) return;
                fixed (float* pgy = gy, px = x.Data)
                {
                    if (GradOf(x) is { } gx) fixed (float* p = gx) Axpy(p, sv, pgy, gy.Length);
                    if (GradOf(s) is { } gs)
                    {
                        double acc = 0;
                        for (int i = 0; i < gy.Length; i++) acc += (double)gy[i] * x.Data[i];
                        gs[0] += (float)acc;
                    }
                }
            });
        return y;
    }

    private Tensor ExpCore(Tensor x) => UnaryOp(x, Unary.Exp);

    private Tensor SiluCore(Tensor x) => UnaryOp(x, Unary.Silu);

    private Tensor GeluTanhCore(Tensor x) => UnaryOp(x, Unary.GeluTanh);

    private Tensor GeluErfCore(Tensor x) => UnaryOp(x, Unary.GeluErf);

    private Tensor QuickGeluCore(Tensor x) => UnaryOp(x, Unary.QuickGelu);

    private Tensor UnaryOp(Tensor x, Unary op)
    {
        bool record = Records(x);
        Tensor y = Output((int[])x.Shape.Clone(), record);
        fixed (float* py = y.Data, px = x.Data)
        {
            var args = new Args { A = py, B = px, N = (int)op };
            For(y.Length, &UnaryFwd, ref args, Grain);
        }
        if (record)
            Record(() =>
            {
                if (y.Grad is not { } gy || GradOf(x) is not { } gx) return;
                fixed (float* pgy = gy, pgx = gx, px = x.Data, py = y.Data)
                {
                    var args = new Args { A = pgx, B = pgy, C = px, D = py, N = (int)op };
                    For(gy.Length, &UnaryBwd, ref args, Grain);
                }
            });
        return y;
    }

    private const float SqrtTwoOverPi = 0.7978845608028654f, GeluCoef = 0.044715f, QuickGeluCoef = 1.702f;

    private static void UnaryFwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        float* y = a->A, x = a->B;
        switch ((Unary)a->N)
        {
            case Unary.Exp:
                for (int i = start; i < end; i++) y[i] = MathF.Exp(x[i]);
                break;
            case Unary.Silu:
            {
                int i = start;
                if (Vector512.IsHardwareAccelerated)
                    for (; i + 16 <= end; i += 16)
                    {
                        var v = Vector512.Load(x + i);
                        (v / (Vector512<float>.One + Vector512.Exp(-v))).Store(y + i);
                    }
                for (; i < end; i++) y[i] = x[i] / (1f + MathF.Exp(-x[i]));
                break;
            }
            case Unary.GeluTanh:
                for (int i = start; i < end; i++)
                {
                    float v = x[i];
                    y[i] = 0.5f * v * (1f + MathF.Tanh(SqrtTwoOverPi * (v + GeluCoef * v * v * v)));
                }
                break;
            case Unary.GeluErf:
            {
                int i = start;
                if (Vector512.IsHardwareAccelerated)
                {
                    Vector512<float> half = Vector512.Create(0.5f), one = Vector512<float>.One, s = Vector512.Create(0.70710678f);
                    for (; i + 16 <= end; i += 16)
                    {
                        var v = Vector512.Load(x + i);
                        (half * v * (one + Erf(v * s))).Store(y + i);
                    }
                }
                for (; i < end; i++) y[i] = (float)(0.5 * x[i] * (1.0 + Erf(x[i] * 0.7071067811865476)));
                break;
            }
            case Unary.QuickGelu:
            {
                int i = start;
                if (Vector512.IsHardwareAccelerated)
                {
                    Vector512<float> k = Vector512.Create(-QuickGeluCoef), one = Vector512<float>.One;
                    for (; i + 16 <= end; i += 16)
                    {
                        var v = Vector512.Load(x + i);
                        (v / (one + Vector512.Exp(k * v))).Store(y + i);
                    }
                }
                for (; i < end; i++) y[i] = x[i] / (1f + MathF.Exp(-QuickGeluCoef * x[i]));
                break;
            }
        }
    }

    // gx += gy · f'(x), with y = f(x) at hand
    private static void UnaryBwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        float* gx = a->A, gy = a->B, x = a->C, y = a->D;
        switch ((Unary)a->N)
        {
            case Unary.Exp:
                for (int i = start; i < end; i++) gx[i] += gy[i] * y[i];
                break;
            case Unary.Silu:
            {
                int i = start;
                if (Vector512.IsHardwareAccelerated)
                {
                    var one = Vector512<float>.One;
                    for (; i + 16 <= end; i += 16)
                    {
                        var v = Vector512.Load(x + i);
                        var s = one / (one + Vector512.Exp(-v));
                        Vector512.FusedMultiplyAdd(Vector512.Load(gy + i), s * (one + v * (one - s)), Vector512.Load(gx + i)).Store(gx + i);
                    }
                }
                for (; i < end; i++)
                {
                    float s = 1f / (1f + MathF.Exp(-x[i]));
                    gx[i] += gy[i] * s * (1f + x[i] * (1f - s));
                }
                break;
            }
            case Unary.GeluTanh:
                for (int i = start; i < end; i++)
                {
                    float v = x[i];
                    float t = MathF.Tanh(SqrtTwoOverPi * (v + GeluCoef * v * v * v));
                    float d = 0.5f * (1f + t) + 0.5f * v * (1f - t * t) * SqrtTwoOverPi * (1f + 3f * GeluCoef * v * v);
                    gx[i] += gy[i] * d;
                }
                break;
            case Unary.GeluErf:
            {
                int i = start;
                if (Vector512.IsHardwareAccelerated)
                {
                    Vector512<float> half = Vector512.Create(0.5f), one = Vector512<float>.One, s = Vector512.Create(0.70710678f);
                    Vector512<float> phi = Vector512.Create(0.39894228f);
                    for (; i + 16 <= end; i += 16)
                    {
                        var v = Vector512.Load(x + i);
                        var d = half * (one + Erf(v * s)) + v * Vector512.Exp(-half * v * v) * phi;
                        Vector512.FusedMultiplyAdd(Vector512.Load(gy + i), d, Vector512.Load(gx + i)).Store(gx + i);
                    }
                }
                for (; i < end; i++)
                {
                    double v = x[i];
                    double d = 0.5 * (1.0 + Erf(v * 0.7071067811865476)) + v * Math.Exp(-0.5 * v * v) * 0.3989422804014327;
                    gx[i] += (float)(gy[i] * d);
                }
                break;
            }
            case Unary.QuickGelu:
            {
                int i = start;
                if (Vector512.IsHardwareAccelerated)
                {
                    Vector512<float> k = Vector512.Create(QuickGeluCoef), one = Vector512<float>.One;
                    for (; i + 16 <= end; i += 16)
                    {
                        var v = Vector512.Load(x + i);
                        var s = one / (one + Vector512.Exp(-k * v));
                        Vector512.FusedMultiplyAdd(Vector512.Load(gy + i), s + k * v * s * (one - s), Vector512.Load(gx + i)).Store(gx + i);
                    }
                }
                for (; i < end; i++)
                {
                    float s = 1f / (1f + MathF.Exp(-QuickGeluCoef * x[i]));
                    gx[i] += gy[i] * (s + QuickGeluCoef * x[i] * s * (1f - s));
                }
                break;
            }
        }
    }

    private Tensor SiluMulCore(Tensor gate, Tensor up)
    {
        Check(gate.Length == up.Length, $"silu mul: gate {S(gate)} and up {S(up)} must have the same shape");
        bool record = Records(gate, up);
        Tensor y = Output((int[])gate.Shape.Clone(), record);
        fixed (float* py = y.Data, pg = gate.Data, pu = up.Data)
        {
            var args = new Args { A = py, B = pg, C = pu };
            For(y.Length, &SiluMulFwd, ref args, Grain);
        }
        if (record)
            Record(() =>
            {
                if (y.Grad is not { } gy) return;
                float[]? gg = GradOf(gate), gu = GradOf(up);
                if (gg == null && gu == null) return;
                fixed (float* pgy = gy, pg = gate.Data, pu = up.Data, pgg = gg, pgu = gu)
                {
                    var args = new Args { A = pgg, B = pgu, C = pgy, D = pg, E = pu };
                    For(gy.Length, &SiluMulBwd, ref args, Grain);
                }
            });
        return y;
    }

    private static void SiluMulFwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        float* y = a->A, g = a->B, u = a->C;
        int i = start;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 16 <= end; i += 16)
            {
                var v = Vector512.Load(g + i);
                (v / (Vector512<float>.One + Vector512.Exp(-v)) * Vector512.Load(u + i)).Store(y + i);
            }
        for (; i < end; i++) y[i] = g[i] / (1f + MathF.Exp(-g[i])) * u[i];
    }

    // gg += gy·u·silu'(g), gu += gy·silu(g); either may be null
    private static void SiluMulBwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        float* gg = a->A, gu = a->B, gy = a->C, g = a->D, u = a->E;
        int i = start;
        if (Vector512.IsHardwareAccelerated)
        {
            var one = Vector512<float>.One;
            for (; i + 16 <= end; i += 16)
            {
                var v = Vector512.Load(g + i);
                var s = one / (one + Vector512.Exp(-v));
                var dy = Vector512.Load(gy + i);
                if (gg != null) (Vector512.Load(gg + i) + dy * Vector512.Load(u + i) * s * (one + v * (one - s))).Store(gg + i);
                if (gu != null) (Vector512.Load(gu + i) + dy * v * s).Store(gu + i);
            }
        }
        for (; i < end; i++)
        {
            float s = 1f / (1f + MathF.Exp(-g[i]));
            if (gg != null) gg[i] += gy[i] * u[i] * s * (1f + g[i] * (1f - s));
            if (gu != null) gu[i] += gy[i] * g[i] * s;
        }
    }

    private Tensor DropoutCore(Tensor x, float p, Random rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        Check(p >= 0 && p < 1, $"dropout probability {p} must be in [0, 1)");
        if (p == 0) return x;
        bool record = Records(x);
        Tensor y = Output((int[])x.Shape.Clone(), record);
        float[] mask = Enabled ? Rent(x.Length) : new float[x.Length];
        float keep = 1f / (1f - p);
        for (int i = 0; i < mask.Length; i++) mask[i] = rng.NextSingle() < p ? 0f : keep;
        fixed (float* py = y.Data, px = x.Data, pm = mask)
        {
            var args = new Args { A = py, B = px, C = pm };
            For(y.Length, &MulFwd, ref args, Grain);
        }
        if (record)
            Record(() =>
            {
                if (y.Grad is not { } gy || GradOf(x) is not { } gx) return;
                fixed (float* pgy = gy, pgx = gx, pm = mask) MulAcc(pgx, pgy, pm, gy.Length);
            });
        return y;
    }
}
