// Linear algebra ops of the tape: Linear (float or frozen WeightMatrix weights), MatMul, Transpose. Every product,
// forward and backward, goes through MatMul.Forward (y = x·Mᵀ on an f32 WeightMatrix over pinned/fixed floats), so
// the MatMulFloatGemm micro-kernel serves all three GEMMs of a linear layer:
//   forward   y (n, out)  = x (n, in) · Wᵀ                    W (out, in) as stored
//   dx        dx (n, in) += dy (n, out) · (Wᵀ)ᵀ               Wᵀ (in, out) transposed into scratch
//   dW        dW (out,in)+= dyᵀ (out, n) · (xᵀ)ᵀ              dyᵀ and xᵀ transposed into scratch
// A frozen WeightMatrix in any dtype streams blocks of rows (about 4M floats): dequantize (Dequantize.Row), transpose,
// multiply, add into dx.
using System.Runtime.Intrinsics;

namespace Furnace.Tensors.Autograd;

public sealed unsafe partial class Tape
{
    // Floats of dequantized weight per streamed block of a frozen WeightMatrix backward (16 MB twice: rows and their
    // transpose). Bigger blocks mean fewer passes adding a block's partial dx into dx. Tests lower it to cover blocking.
    internal static int DequantBlockFloats = 1 << 22;

    private Tensor LinearCore(Tensor x, Tensor w, Tensor? b)
    {
        Check(x.Rank >= 1 && w.Rank == 2 && x.Shape[^1] == w.Shape[1],
            $"linear: x {S(x)} and weight {S(w)} do not match (need x (n, in), w (out, in))");
        Check(b == null || (b.Rank == 1 && b.Length == w.Shape[0]), $"linear: bias {(b == null ? "" : S(b))} must be ({w.Shape[0]},)");
        int n = x.Length / w.Shape[1], din = w.Shape[1], dout = w.Shape[0];
        bool record = Records(x, w, b);
        Tensor y = Output(OutShape(x, dout), record);
        fixed (float* py = y.Data, px = x.Data, pw = w.Data)
        {
            Gemm(py, px, n, pw, dout, din, accumulate: false);
            if (b != null) fixed (float* pb = b.Data) AddRowInPlace(py, pb, n, dout);
        }
        if (!record) return y;
        Record(() =>
        {
            if (y.Grad is not { } gy) return;
            fixed (float* pgy = gy, px = x.Data, pw = w.Data)
            {
                if (GradOf(x, out bool fresh) is { } gx)
                {
                    float[] wt = Temp(din * dout);
                    fixed (float* pgx = gx, pwt = wt)
                    {
                        TransposeInto(pwt, pw, dout, din);
                        Gemm(pgx, pgy, n, pwt, din, dout, accumulate: !fresh);
                    }
                    Give(wt);
                }
                if (GradOf(w) is { } gw)
                {
                    float[] gyt = Temp(dout * n), xt = Temp(din * n);
                    fixed (float* pgw = gw, pgyt = gyt, pxt = xt)
                    {
                        TransposeInto(pgyt, pgy, n, dout);
                        TransposeInto(pxt, px, n, din);
                        Gemm(pgw, pgyt, dout, pxt, din, n, accumulate: true);
                    }
                    Give(gyt);
                    Give(xt);
                }
                if (b != null && GradOf(b) is { } gb)
                    fixed (float* pgb = gb) ColumnSums(pgb, pgy, n, dout);
            }
        });
        return y;
    }

    private Tensor LinearCore(Tensor x, WeightMatrix w, Tensor? b)
    {
        Check(x.Rank >= 1 && x.Shape[^1] == w.Cols, $"linear: x {S(x)} does not match the weight ({w.Rows}, {w.Cols})");
        Check(b == null || (b.Rank == 1 && b.Length == w.Rows), $"linear: bias {(b == null ? "" : S(b))} must be ({w.Rows},)");
        int n = x.Length / w.Cols, din = w.Cols, dout = w.Rows;
        bool record = Records(x, b);
        Tensor y = Output(OutShape(x, dout), record);
        Furnace.Tensors.MatMul.Forward(y.Data, x.Data, n, w, Context);
        if (b != null) fixed (float* py = y.Data, pb = b.Data) AddRowInPlace(py, pb, n, dout);
        if (!record) return y;
        Record(() =>
        {
            if (y.Grad is not { } gy) return;
            if (GradOf(x, out bool fresh) is { } gx)
            {
                int rb = Math.Min(dout, Math.Max(32, DequantBlockFloats / din / 32 * 32));
                float[] rows = Temp(rb * din), rowsT = Temp(din * rb), gyBlock = Temp(n * rb);
                fixed (float* pgy = gy, pgx = gx, prows = rows, prowsT = rowsT, pgb = gyBlock)
                {
                    for (int r0 = 0; r0 < dout; r0 += rb)
                    {
                        int cnt = Math.Min(rb, dout - r0);
                        for (int r = 0; r < cnt; r++) Dequantize.Row(new Span<float>(prows + (long)r * din, din), w, r0 + r);
                        TransposeInto(prowsT, prows, cnt, din);
                        for (int i = 0; i < n; i++) // dy[:, r0:r0+cnt] contiguous
                            new ReadOnlySpan<float>(pgy + (long)i * dout + r0, cnt).CopyTo(new Span<float>(pgb + (long)i * cnt, cnt));
                        Gemm(pgx, pgb, n, prowsT, din, cnt, accumulate: !fresh || r0 > 0);
                    }
                }
                Give(rows);
                Give(rowsT);
                Give(gyBlock);
            }
            if (b != null && GradOf(b) is { } gbias)
                fixed (float* pgb = gbias, pgy = gy) ColumnSums(pgb, pgy, n, dout);
        });
        return y;
    }

    private Tensor MatMulCore(Tensor a, Tensor b)
    {
        Check(a.Rank == 2 && b.Rank == 2 && a.Shape[1] == b.Shape[0], $"matmul: a {S(a)} and b {S(b)} do not match (need (m, k) and (k, n))");
        int m = a.Shape[0], k = a.Shape[1], n = b.Shape[1];
        bool record = Records(a, b);
        Tensor y = Output([m, n], record);
        float[] bt = Temp(n * k);
        fixed (float* py = y.Data, pa = a.Data, pb = b.Data, pbt = bt)
        {
            TransposeInto(pbt, pb, k, n);
            Gemm(py, pa, m, pbt, n, k, accumulate: false);
        }
        Give(bt);
        if (!record) return y;
        Record(() =>
        {
            if (y.Grad is not { } gy) return;
            fixed (float* pgy = gy, pa = a.Data, pb = b.Data)
            {
                if (GradOf(a, out bool fresh) is { } ga) // da (m, k) += dy (m, n) · bᵀ: M = b (k, n)
                    fixed (float* pga = ga) Gemm(pga, pgy, m, pb, k, n, accumulate: !fresh);
                if (GradOf(b) is { } gb) // db (k, n) += aᵀ (k, m) · dy: M = dyᵀ (n, m)
                {
                    float[] at = Temp(k * m), gyt = Temp(n * m);
                    fixed (float* pgb = gb, pat = at, pgyt = gyt)
                    {
                        TransposeInto(pat, pa, m, k);
                        TransposeInto(pgyt, pgy, m, n);
                        Gemm(pgb, pat, k, pgyt, n, m, accumulate: true);
                    }
                    Give(at);
                    Give(gyt);
                }
            }
        });
        return y;
    }

    private Tensor TransposeCore(Tensor x)
    {
        Check(x.Rank == 2, $"transpose: x {S(x)} must be 2-D");
        int m = x.Shape[0], n = x.Shape[1];
        bool record = Records(x);
        Tensor y = Output([n, m], record);
        fixed (float* py = y.Data, px = x.Data) TransposeInto(py, px, m, n);
        if (!record) return y;
        Record(() =>
        {
            if (y.Grad is not { } gy || GradOf(x) is not { } gx) return;
            float[] t = Temp(m * n);
            fixed (float* pt = t, pgy = gy, pgx = gx)
            {
                TransposeInto(pt, pgy, n, m);
                AddInto(pgx, pt, m * n);
            }
            Give(t);
        });
        return y;
    }

    private static int[] OutShape(Tensor x, int last)
    {
        var shape = (int[])x.Shape.Clone();
        shape[^1] = last;
        return shape;
    }

    // y (t, rows) (+)= x (t, cols) · mᵀ for f32 m (rows, cols)
    private void Gemm(float* y, float* x, int t, float* m, int rows, int cols, bool accumulate)
    {
        var wm = new WeightMatrix((byte*)m, rows, cols, DType.F32);
        var xs = new ReadOnlySpan<float>(x, checked(t * cols));
        if (!accumulate)
        {
            Furnace.Tensors.MatMul.Forward(new Span<float>(y, checked(t * rows)), xs, t, wm, Context);
            return;
        }
        float[] tmp = Temp(t * rows);
        fixed (float* pt = tmp)
        {
            Furnace.Tensors.MatMul.Forward(new Span<float>(pt, t * rows), xs, t, wm, Context);
            AddInto(y, pt, t * rows);
        }
        Give(tmp);
    }

    // dst (cols, rows) = src (rows, cols)ᵀ, parallel over bands of 16 source rows. Each 16×16 tile goes through an L1
    // buffer so that every source and destination cache line is touched once, whole: the strides are often powers of
    // two, where a direct strided scatter thrashes a cache set (measured here 40 ms -> ~1 ms for 1024×1024).
    private void TransposeInto(float* dst, float* src, int rows, int cols)
    {
        var a = new Args { A = dst, B = src, N = rows, M = cols };
        For((rows + 15) / 16, &TransposeBody, ref a);
    }

    private static void TransposeBody(int start, int end, void* p)
    {
        var a = (Args*)p;
        float* dst = a->A, src = a->B;
        int rows = a->N, cols = a->M;
        float* tile = stackalloc float[16 * 16];
        for (int band = start; band < end; band++)
        {
            int r0 = band * 16, nr = Math.Min(16, rows - r0);
            int c0 = 0;
            if (nr == 16 && Vector512.IsHardwareAccelerated)
            {
                for (; c0 + 16 <= cols; c0 += 16)
                {
                    for (int i = 0; i < 16; i++)
                    {
                        float* s = src + (long)(r0 + i) * cols + c0;
                        for (int j = 0; j < 16; j++) tile[j * 16 + i] = s[j];
                    }
                    for (int j = 0; j < 16; j++) Vector512.Load(tile + j * 16).Store(dst + (long)(c0 + j) * rows + r0);
                }
            }
            for (int c = c0; c < cols; c++)
                for (int i = 0; i < nr; i++) dst[(long)c * rows + r0 + i] = src[(long)(r0 + i) * cols + c];
        }
    }

    // y (n,) += x
    private void AddInto(float* y, float* x, int n)
    {
        var a = new Args { A = y, B = x };
        For(n, &AddBody, ref a, 4096);
    }

    private static void AddBody(int start, int end, void* p)
    {
        var a = (Args*)p;
        Vec.Add(a->A + start, a->B + start, end - start);
    }

    // y (n, d) += b (d,) on every row
    private static void AddRowInPlace(float* y, float* b, int n, int d)
    {
        for (int i = 0; i < n; i++) Vec.Add(y + (long)i * d, b, d);
    }

    // g (d,) += column sums of dy (n, d)
    private static void ColumnSums(float* g, float* dy, int n, int d)
    {
        for (int i = 0; i < n; i++) Vec.Add(g, dy + (long)i * d, d);
    }
}
