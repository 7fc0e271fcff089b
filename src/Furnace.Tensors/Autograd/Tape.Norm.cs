// Row-wise normalisations of the tape, each over the last dimension of x (n, d), with their backward passes:
//   rms:      y = x·r·w, r = 1/√(mean(x²)+eps)      dx = r·(g − x·r²·mean(g⊙x)), g = dy⊙w;   dw += Σ dy⊙x·r
//   layer:    y = x̂·w + b, x̂ = (x−μ)·rstd           dx = rstd·(g − mean(g) − x̂·mean(g⊙x̂));  dw += Σ dy⊙x̂, db += Σ dy
//   l2:       y = x / max(‖x‖, 1e-12)               dx = (dy − y·(y·dy)) / ‖x‖  (dy / 1e-12 below the clamp)
//   softmax:  dx = y ⊙ (dy − y·dy)
// The per-row statistics (r, or μ and rstd) are saved in pooled arrays; forward reductions accumulate in double (the
// RmsNorm forward equals Ops.RmsNorm bit for bit), backward ones in 16 float lanes reduced in double (Vector512).
// Rows run in parallel; weight gradients are summed over rows afterwards on one thread (O(n·d), a small pass).
using System.Runtime.Intrinsics;

namespace Furnace.Tensors.Autograd;

public sealed unsafe partial class Tape
{
    private Tensor RmsNormCore(Tensor x, Tensor w, float eps)
    {
        Check(x.Rank >= 1 && w.Rank == 1 && x.Shape[^1] == w.Length, $"rms norm: x {S(x)} and weight {S(w)} do not match");
        (int n, int d) = Matrix(x);
        bool record = Records(x, w);
        Tensor y = Output((int[])x.Shape.Clone(), record);
        float[] r = Enabled ? Rent(n) : new float[n];
        fixed (float* py = y.Data, px = x.Data, pw = w.Data, pr = r)
        {
            var args = new Args { A = py, B = px, C = pw, D = pr, M = d, S = eps };
            For(n, &RmsFwd, ref args, 8);
        }
        if (!record) return y;
        Record(() =>
        {
            if (y.Grad is not { } gy) return;
            float[]? gx = GradOf(x), gw = GradOf(w);
            fixed (float* pgy = gy, px = x.Data, pw = w.Data, pr = r, pgx = gx, pgw = gw)
            {
                if (pgx != null)
                {
                    var args = new Args { A = pgx, B = pgy, C = px, D = pw, E = pr, M = d };
                    For(n, &RmsBwd, ref args, 8);
                }
                if (pgw != null)
                    for (int i = 0; i < n; i++)
                    {
                        float* gyi = pgy + (long)i * d, xi = px + (long)i * d;
                        MulAddScaled(pgw, gyi, xi, pr[i], d);
                    }
            }
        });
        return y;
    }

    // g (d,) += a ⊙ b · s
    private static void MulAddScaled(float* g, float* a, float* b, float s, int d)
    {
        int j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var vs = Vector512.Create(s);
            for (; j + 16 <= d; j += 16)
                Vector512.FusedMultiplyAdd(Vector512.Load(a + j) * Vector512.Load(b + j), vs, Vector512.Load(g + j)).Store(g + j);
        }
        for (; j < d; j++) g[j] += a[j] * b[j] * s;
    }

    private Tensor RmsNormCore(Tensor x, float[] w, float eps)
    {
        ArgumentNullException.ThrowIfNull(w);
        return RmsNormCore(x, new Tensor([w.Length], w), eps);
    }

    private static void RmsFwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        int d = a->M;
        for (int i = start; i < end; i++)
        {
            float* x = a->B + (long)i * d;
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double)x[j] * x[j];
            float r = (float)(1.0 / Math.Sqrt(ss / d + a->S));
            a->D[i] = r;
            Vec.ScaleMul(a->A + (long)i * d, x, r, a->C, d);
        }
    }

    private static void RmsBwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        int d = a->M;
        float* w = a->D;
        for (int i = start; i < end; i++)
        {
            float* gx = a->A + (long)i * d, gy = a->B + (long)i * d, x = a->C + (long)i * d;
            float r = a->E[i];
            float c = (float)(Dot3(gy, w, x, d) / d) * r * r * r;
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> vr = Vector512.Create(r), vc = Vector512.Create(c);
                for (; j + 16 <= d; j += 16)
                {
                    var g = vr * Vector512.Load(gy + j) * Vector512.Load(w + j);
                    (Vector512.Load(gx + j) + g - vc * Vector512.Load(x + j)).Store(gx + j);
                }
            }
            for (; j < d; j++) gx[j] += r * gy[j] * w[j] - c * x[j];
        }
    }

    // Σ a⊙b⊙c over n, 16 float lanes reduced in double (b == null: Σ a⊙c)
    private static double Dot3(float* a, float* b, float* c, int n)
    {
        int j = 0;
        double sum = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            var acc = Vector512<float>.Zero;
            if (b != null)
                for (; j + 16 <= n; j += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + j) * Vector512.Load(b + j), Vector512.Load(c + j), acc);
            else
                for (; j + 16 <= n; j += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + j), Vector512.Load(c + j), acc);
            for (int l = 0; l < 16; l++) sum += acc[l];
        }
        for (; j < n; j++) sum += (double)a[j] * (b != null ? b[j] : 1f) * c[j];
        return sum;
    }

    private Tensor LayerNormCore(Tensor x, Tensor w, Tensor b, float eps)
    {
        Check(x.Rank >= 1 && w.Rank == 1 && b.Rank == 1 && x.Shape[^1] == w.Length && w.Length == b.Length,
            $"layer norm: x {S(x)}, weight {S(w)} and bias {S(b)} do not match");
        (int n, int d) = Matrix(x);
        bool record = Records(x, w, b);
        Tensor y = Output((int[])x.Shape.Clone(), record);
        float[] stats = Enabled ? Rent(2 * n) : new float[2 * n]; // (mean, rstd) per row
        fixed (float* py = y.Data, px = x.Data, pw = w.Data, pb = b.Data, ps = stats)
        {
            var args = new Args { A = py, B = px, C = pw, D = pb, E = ps, M = d, S = eps };
            For(n, &LayerFwd, ref args, 8);
        }
        if (!record) return y;
        Record(() =>
        {
            if (y.Grad is not { } gy) return;
            float[]? gx = GradOf(x), gw = GradOf(w), gb = GradOf(b);
            fixed (float* pgy = gy, px = x.Data, pw = w.Data, ps = stats, pgx = gx, pgw = gw, pgb = gb)
            {
                if (pgx != null)
                {
                    var args = new Args { A = pgx, B = pgy, C = px, D = pw, E = ps, M = d };
                    For(n, &LayerBwd, ref args, 8);
                }
                for (int i = 0; i < n && (pgw != null || pgb != null); i++)
                {
                    float* gyi = pgy + (long)i * d, xi = px + (long)i * d;
                    float mu = ps[2 * i], rstd = ps[2 * i + 1];
                    if (pgb != null) Vec.Add(pgb, gyi, d);
                    if (pgw == null) continue;
                    int j = 0;
                    if (Vector512.IsHardwareAccelerated)
                    {
                        Vector512<float> vmu = Vector512.Create(mu), vr = Vector512.Create(rstd);
                        for (; j + 16 <= d; j += 16)
                            Vector512.FusedMultiplyAdd(Vector512.Load(gyi + j), (Vector512.Load(xi + j) - vmu) * vr, Vector512.Load(pgw + j)).Store(pgw + j);
                    }
                    for (; j < d; j++) pgw[j] += gyi[j] * (xi[j] - mu) * rstd;
                }
            }
        });
        return y;
    }

    private static void LayerFwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        int d = a->M;
        for (int i = start; i < end; i++)
        {
            float* x = a->B + (long)i * d, y = a->A + (long)i * d;
            double mean = 0;
            for (int j = 0; j < d; j++) mean += x[j];
            mean /= d;
            double var = 0;
            for (int j = 0; j < d; j++) var += (x[j] - mean) * (x[j] - mean);
            var /= d;
            float mu = (float)mean, rstd = (float)(1.0 / Math.Sqrt(var + a->S));
            a->E[2 * i] = mu;
            a->E[2 * i + 1] = rstd;
            for (int j = 0; j < d; j++) y[j] = (x[j] - mu) * rstd * a->C[j] + a->D[j];
        }
    }

    private static void LayerBwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        int d = a->M;
        float* w = a->D;
        for (int i = start; i < end; i++)
        {
            float* gx = a->A + (long)i * d, gy = a->B + (long)i * d, x = a->C + (long)i * d;
            float mu = a->E[2 * i], rstd = a->E[2 * i + 1];
            (double sg, double sgx) = LayerSums(gy, w, x, mu, rstd, d);
            float mg = (float)(sg / d), mgx = (float)(sgx / d);
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                Vector512<float> vmu = Vector512.Create(mu), vr = Vector512.Create(rstd), vmg = Vector512.Create(mg), vmgx = Vector512.Create(mgx);
                for (; j + 16 <= d; j += 16)
                {
                    var xhat = (Vector512.Load(x + j) - vmu) * vr;
                    var g = Vector512.Load(gy + j) * Vector512.Load(w + j);
                    Vector512.FusedMultiplyAdd(vr, g - vmg - xhat * vmgx, Vector512.Load(gx + j)).Store(gx + j);
                }
            }
            for (; j < d; j++) gx[j] += rstd * (gy[j] * w[j] - mg - (x[j] - mu) * rstd * mgx);
        }
    }

    // (Σ g, Σ g⊙x̂) with g = dy⊙w, x̂ = (x − μ)·rstd; 16 float lanes reduced in double (x − μ first: no cancellation)
    private static (double, double) LayerSums(float* gy, float* w, float* x, float mu, float rstd, int d)
    {
        int j = 0;
        double sg = 0, sgx = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            Vector512<float> vmu = Vector512.Create(mu), vr = Vector512.Create(rstd), ag = default, agx = default;
            for (; j + 16 <= d; j += 16)
            {
                var g = Vector512.Load(gy + j) * Vector512.Load(w + j);
                ag += g;
                agx = Vector512.FusedMultiplyAdd(g, (Vector512.Load(x + j) - vmu) * vr, agx);
            }
            for (int l = 0; l < 16; l++)
            {
                sg += ag[l];
                sgx += agx[l];
            }
        }
        for (; j < d; j++)
        {
            double g = (double)gy[j] * w[j];
            sg += g;
            sgx += g * (x[j] - mu) * rstd;
        }
        return (sg, sgx);
    }

    private Tensor L2NormalizeCore(Tensor x)
    {
        (int n, int d) = Matrix(x);
        bool record = Records(x);
        Tensor y = Output((int[])x.Shape.Clone(), record);
        float[] norms = Enabled ? Rent(n) : new float[n]; // max(‖x‖, 1e-12) per row
        fixed (float* py = y.Data, px = x.Data, pn = norms)
        {
            var args = new Args { A = py, B = px, C = pn, M = d };
            For(n, &L2Fwd, ref args, 8);
        }
        if (!record) return y;
        Record(() =>
        {
            if (y.Grad is not { } gy || GradOf(x) is not { } gx) return;
            fixed (float* pgx = gx, pgy = gy, py = y.Data, pn = norms, px = x.Data)
            {
                var args = new Args { A = pgx, B = pgy, C = py, D = pn, E = px, M = d };
                For(n, &L2Bwd, ref args, 8);
            }
        });
        return y;
    }

    private const float L2Floor = 1e-12f;

    private static void L2Fwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        int d = a->M;
        for (int i = start; i < end; i++)
        {
            float* x = a->B + (long)i * d, y = a->A + (long)i * d;
            double ss = 0;
            for (int j = 0; j < d; j++) ss += (double)x[j] * x[j];
            float norm = MathF.Max((float)Math.Sqrt(ss), L2Floor);
            a->C[i] = norm;
            for (int j = 0; j < d; j++) y[j] = x[j] / norm;
        }
    }

    private static void L2Bwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        int d = a->M;
        for (int i = start; i < end; i++)
        {
            float* gx = a->A + (long)i * d, gy = a->B + (long)i * d, y = a->C + (long)i * d;
            float norm = a->D[i];
            if (norm <= L2Floor) // clamped: y = x / 1e-12 is linear in x
            {
                for (int j = 0; j < d; j++) gx[j] += gy[j] / L2Floor;
                continue;
            }
            double dot = 0;
            for (int j = 0; j < d; j++) dot += (double)y[j] * gy[j];
            float fd = (float)dot;
            for (int j = 0; j < d; j++) gx[j] += (gy[j] - y[j] * fd) / norm;
        }
    }

    private Tensor SoftmaxCore(Tensor x)
    {
        (int n, int d) = Matrix(x);
        bool record = Records(x);
        Tensor y = Output((int[])x.Shape.Clone(), record);
        x.Data.CopyTo(y.Data, 0);
        fixed (float* py = y.Data)
        {
            var args = new Args { A = py, M = d };
            For(n, &SoftmaxFwd, ref args, 8);
        }
        if (!record) return y;
        Record(() =>
        {
            if (y.Grad is not { } gy || GradOf(x) is not { } gx) return;
            fixed (float* pgx = gx, pgy = gy, py = y.Data)
            {
                var args = new Args { A = pgx, B = pgy, C = py, M = d };
                For(n, &SoftmaxBwd, ref args, 8);
            }
        });
        return y;
    }

    private static void SoftmaxFwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        for (int i = start; i < end; i++) Ops.SoftmaxVec(new Span<float>(a->A + (long)i * a->M, a->M));
    }

    private static void SoftmaxBwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        int d = a->M;
        for (int i = start; i < end; i++)
        {
            float* gx = a->A + (long)i * d, gy = a->B + (long)i * d, y = a->C + (long)i * d;
            float fd = (float)Dot3(y, null, gy, d);
            int j = 0;
            if (Vector512.IsHardwareAccelerated)
            {
                var vd = Vector512.Create(fd);
                for (; j + 16 <= d; j += 16)
                    Vector512.FusedMultiplyAdd(Vector512.Load(y + j), Vector512.Load(gy + j) - vd, Vector512.Load(gx + j)).Store(gx + j);
            }
            for (; j < d; j++) gx[j] += y[j] * (gy[j] - fd);
        }
    }
}
