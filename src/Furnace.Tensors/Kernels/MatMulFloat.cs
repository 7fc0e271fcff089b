// Float-weight matmul kernels (F32, F16, BF16 weights; f32 activations, f32 accumulation).
// Mirrors ggml_vec_dot_f32/f16/bf16: activations are first rounded to the weight type (done by MatMul.Forward),
// then products are summed in f32. Vector512 -> Vector256 -> scalar.
//   GEMV: four rows x one token (two accumulators each), so four weight streams are in flight.
//   GEMM: two rows x four tokens per micro-tile: each weight vector is loaded (and widened) once for four tokens.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Furnace.Tensors;

internal static unsafe class MatMulFloat
{
    // w row (n,) . x (n,) -> scalar
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static float Dot<TL>(byte* w, float* x, int n) where TL : struct, IFloatLoad
    {
        int i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= n - 64; i += 64)
            {
                a0 = Vector512.FusedMultiplyAdd(TL.Load512(w, i), Vector512.Load(x + i), a0);
                a1 = Vector512.FusedMultiplyAdd(TL.Load512(w, i + 16), Vector512.Load(x + i + 16), a1);
                a2 = Vector512.FusedMultiplyAdd(TL.Load512(w, i + 32), Vector512.Load(x + i + 32), a2);
                a3 = Vector512.FusedMultiplyAdd(TL.Load512(w, i + 48), Vector512.Load(x + i + 48), a3);
            }
            for (; i <= n - 16; i += 16) a0 = Vector512.FusedMultiplyAdd(TL.Load512(w, i), Vector512.Load(x + i), a0);
            sum = Vector512.Sum((a0 + a1) + (a2 + a3));
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; i <= n - 32; i += 32)
            {
                a0 = Vector256.FusedMultiplyAdd(TL.Load256(w, i), Vector256.Load(x + i), a0);
                a1 = Vector256.FusedMultiplyAdd(TL.Load256(w, i + 8), Vector256.Load(x + i + 8), a1);
                a2 = Vector256.FusedMultiplyAdd(TL.Load256(w, i + 16), Vector256.Load(x + i + 16), a2);
                a3 = Vector256.FusedMultiplyAdd(TL.Load256(w, i + 24), Vector256.Load(x + i + 24), a3);
            }
            for (; i <= n - 8; i += 8) a0 = Vector256.FusedMultiplyAdd(TL.Load256(w, i), Vector256.Load(x + i), a0);
            sum = Vector256.Sum((a0 + a1) + (a2 + a3));
        }
        for (; i < n; i++) sum = MathF.FusedMultiplyAdd(TL.Load1(w, i), x[i], sum);
        return sum;
    }

    // four rows w, w + stride, w + 2 stride, w + 3 stride (n,) . x (n,) -> o[0..3]. Four weight streams in flight keep
    // more cache misses outstanding than one row at a time (GEMV is bandwidth-bound), and x is loaded once per four rows.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static void Dot4<TL>(byte* w, long stride, float* x, int n, float* o) where TL : struct, IFloatLoad
    {
        if (!Vector512.IsHardwareAccelerated || n < 32)
        {
            for (int k = 0; k < 4; k++) o[k] = Dot<TL>(w + k * stride, x, n);
            return;
        }
        byte* w1 = w + stride, w2 = w + 2 * stride, w3 = w + 3 * stride;
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default;
        int i = 0;
        for (; i <= n - 32; i += 32)
        {
            Vector512<float> x0 = Vector512.Load(x + i), x1 = Vector512.Load(x + i + 16);
            a0 = Vector512.FusedMultiplyAdd(TL.Load512(w, i), x0, a0);
            a1 = Vector512.FusedMultiplyAdd(TL.Load512(w1, i), x0, a1);
            a2 = Vector512.FusedMultiplyAdd(TL.Load512(w2, i), x0, a2);
            a3 = Vector512.FusedMultiplyAdd(TL.Load512(w3, i), x0, a3);
            b0 = Vector512.FusedMultiplyAdd(TL.Load512(w, i + 16), x1, b0);
            b1 = Vector512.FusedMultiplyAdd(TL.Load512(w1, i + 16), x1, b1);
            b2 = Vector512.FusedMultiplyAdd(TL.Load512(w2, i + 16), x1, b2);
            b3 = Vector512.FusedMultiplyAdd(TL.Load512(w3, i + 16), x1, b3);
        }
        if (i <= n - 16)
        {
            Vector512<float> x0 = Vector512.Load(x + i);
            a0 = Vector512.FusedMultiplyAdd(TL.Load512(w, i), x0, a0);
            a1 = Vector512.FusedMultiplyAdd(TL.Load512(w1, i), x0, a1);
            a2 = Vector512.FusedMultiplyAdd(TL.Load512(w2, i), x0, a2);
            a3 = Vector512.FusedMultiplyAdd(TL.Load512(w3, i), x0, a3);
            i += 16;
        }
        float s0 = Vector512.Sum(a0 + b0), s1 = Vector512.Sum(a1 + b1), s2 = Vector512.Sum(a2 + b2), s3 = Vector512.Sum(a3 + b3);
        for (; i < n; i++)
        {
            s0 = MathF.FusedMultiplyAdd(TL.Load1(w, i), x[i], s0);
            s1 = MathF.FusedMultiplyAdd(TL.Load1(w1, i), x[i], s1);
            s2 = MathF.FusedMultiplyAdd(TL.Load1(w2, i), x[i], s2);
            s3 = MathF.FusedMultiplyAdd(TL.Load1(w3, i), x[i], s3);
        }
        o[0] = s0; o[1] = s1; o[2] = s2; o[3] = s3;
    }

    // rows w0, w1 (n,) . tokens x0..x3 (n,) -> y[r*ys + k] for r in 0..1, k in 0..3 (caller passes duplicates for padding)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Tile2x4<TL>(byte* w0, byte* w1, float* x0, float* x1, float* x2, float* x3, int n, float* o /* [8] */)
        where TL : struct, IFloatLoad
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
            Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
            for (; i <= n - 16; i += 16)
            {
                var v0 = TL.Load512(w0, i);
                var v1 = TL.Load512(w1, i);
                var b0 = Vector512.Load(x0 + i);
                var b1 = Vector512.Load(x1 + i);
                var b2 = Vector512.Load(x2 + i);
                var b3 = Vector512.Load(x3 + i);
                a00 = Vector512.FusedMultiplyAdd(v0, b0, a00);
                a01 = Vector512.FusedMultiplyAdd(v0, b1, a01);
                a02 = Vector512.FusedMultiplyAdd(v0, b2, a02);
                a03 = Vector512.FusedMultiplyAdd(v0, b3, a03);
                a10 = Vector512.FusedMultiplyAdd(v1, b0, a10);
                a11 = Vector512.FusedMultiplyAdd(v1, b1, a11);
                a12 = Vector512.FusedMultiplyAdd(v1, b2, a12);
                a13 = Vector512.FusedMultiplyAdd(v1, b3, a13);
            }
            o[0] = Vector512.Sum(a00); o[1] = Vector512.Sum(a01); o[2] = Vector512.Sum(a02); o[3] = Vector512.Sum(a03);
            o[4] = Vector512.Sum(a10); o[5] = Vector512.Sum(a11); o[6] = Vector512.Sum(a12); o[7] = Vector512.Sum(a13);
        }
        else if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
            Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
            for (; i <= n - 8; i += 8)
            {
                var v0 = TL.Load256(w0, i);
                var v1 = TL.Load256(w1, i);
                var b0 = Vector256.Load(x0 + i);
                var b1 = Vector256.Load(x1 + i);
                var b2 = Vector256.Load(x2 + i);
                var b3 = Vector256.Load(x3 + i);
                a00 = Vector256.FusedMultiplyAdd(v0, b0, a00);
                a01 = Vector256.FusedMultiplyAdd(v0, b1, a01);
                a02 = Vector256.FusedMultiplyAdd(v0, b2, a02);
                a03 = Vector256.FusedMultiplyAdd(v0, b3, a03);
                a10 = Vector256.FusedMultiplyAdd(v1, b0, a10);
                a11 = Vector256.FusedMultiplyAdd(v1, b1, a11);
                a12 = Vector256.FusedMultiplyAdd(v1, b2, a12);
                a13 = Vector256.FusedMultiplyAdd(v1, b3, a13);
            }
            o[0] = Vector256.Sum(a00); o[1] = Vector256.Sum(a01); o[2] = Vector256.Sum(a02); o[3] = Vector256.Sum(a03);
            o[4] = Vector256.Sum(a10); o[5] = Vector256.Sum(a11); o[6] = Vector256.Sum(a12); o[7] = Vector256.Sum(a13);
        }
        else
        {
            for (int k = 0; k < 8; k++) o[k] = 0;
        }
        for (; i < n; i++)
        {
            float v0 = TL.Load1(w0, i), v1 = TL.Load1(w1, i);
            o[0] = MathF.FusedMultiplyAdd(v0, x0[i], o[0]); o[1] = MathF.FusedMultiplyAdd(v0, x1[i], o[1]);
            o[2] = MathF.FusedMultiplyAdd(v0, x2[i], o[2]); o[3] = MathF.FusedMultiplyAdd(v0, x3[i], o[3]);
            o[4] = MathF.FusedMultiplyAdd(v1, x0[i], o[4]); o[5] = MathF.FusedMultiplyAdd(v1, x1[i], o[5]);
            o[6] = MathF.FusedMultiplyAdd(v1, x2[i], o[6]); o[7] = MathF.FusedMultiplyAdd(v1, x3[i], o[7]);
        }
    }

    // y (t, rows) = x (t, cols) @ W^T over rows [start, end)
    public struct Job<TL> : IParallelJob where TL : struct, IFloatLoad
    {
        public float* Y;
        public float* X;
        public int T;
        public WeightMatrix W;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
        public void Execute(int start, int end, int thread)
        {
            int cols = W.Cols, rows = W.Rows;
            float* o = stackalloc float[8];
            if (T == 1)
            {
                int r = start;
                for (; r <= end - 4; r += 4)
                {
                    Dot4<TL>(W.Row(r), W.RowBytes, X, cols, o);
                    Y[r] = o[0]; Y[r + 1] = o[1]; Y[r + 2] = o[2]; Y[r + 3] = o[3];
                }
                for (; r < end; r++) Y[r] = Dot<TL>(W.Row(r), X, cols);
                return;
            }
            // Rows in blocks that stay in L2 while every token tile passes over them.
            int rowBlock = Math.Max(2, (256 * 1024) / (int)Math.Min(W.RowBytes, 256 * 1024) / 2 * 2);
            for (int rb = start; rb < end; rb += rowBlock)
            {
                int re = Math.Min(end, rb + rowBlock);
                for (int tt = 0; tt < T; tt += 4)
                {
                    int nt = Math.Min(4, T - tt);
                    float* x0 = X + (long)tt * cols;
                    float* x1 = X + (long)(tt + Math.Min(1, nt - 1)) * cols;
                    float* x2 = X + (long)(tt + Math.Min(2, nt - 1)) * cols;
                    float* x3 = X + (long)(tt + Math.Min(3, nt - 1)) * cols;
                    for (int r = rb; r < re; r += 2)
                    {
                        int r1 = Math.Min(r + 1, re - 1);
                        Tile2x4<TL>(W.Row(r), W.Row(r1), x0, x1, x2, x3, cols, o);
                        for (int k = 0; k < nt; k++) Y[(long)(tt + k) * rows + r] = o[k];
                        if (r1 != r)
                            for (int k = 0; k < nt; k++) Y[(long)(tt + k) * rows + r1] = o[4 + k];
                    }
                }
            }
        }
    }
}
