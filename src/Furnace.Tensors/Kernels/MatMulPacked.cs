// Quantized matmul on Interleaved8 weights (see Repack for the layout), mirroring the idea of llama.cpp's
// ggml-cpu/repack.cpp gemv/gemm for q4_0x8 / q8_0x8 against Q8_0 activations: lane r of a 256-bit accumulator is
// row r's dot product. Per (8 rows, block, token):
//   isum (8,) = bias + sum_v VNNI(W_v (8 rows x 4 bytes), broadcast(x chunk v))      exact integers
//   acc  (8,) = fma(float(isum), d_w (8,) * d_x, acc)                                one convert, one fma
// where the per-token bias = -Offset * sum(x block) removes the weights' unsigned shift (see MatMulQuant); it is the
// same for all 8 rows, so it is the broadcast start value. Q4_0's high nibbles enter as 16 x value (v & 0xF0) in a
// second chain, shifted back by 4 once per block. The f16 row scales are widened with integer ops (no F16C in .NET).
// GEMV (t = 1) walks two groups at a time, sharing the activation broadcasts; GEMM tiles 8 rows x 4 tokens, so each
// unpacked weight vector serves four tokens. Threads split over 8-row groups. Without AVX-VNNI the same integers are
// formed in scalar code (GroupScalar, also the tests' twin).
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Furnace.Tensors;

internal interface IPackedBlock
{
    static abstract int Vectors { get; }   // 32-byte weight vectors per (group, block)

    static abstract int HighShift { get; } // the second chain's scale: 16x (shift 4) for Q4_0 high nibbles, 1x for Q8_0
}

internal readonly struct Q8_0x8 : IPackedBlock
{
    public static int Vectors => 8;

    public static int HighShift => 0;
}

internal readonly struct Q4_0x8 : IPackedBlock
{
    public static int Vectors => 4;

    public static int HighShift => 4;
}

internal static unsafe class MatMulPacked
{
    // the eight unsigned weight operands of one (group, block): w0..w3 pair with chunks 0..3, w4..w7 with 4..7
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Weights<TP>(byte* q, Vector256<byte> lo, Vector256<byte> hi, out Vector256<byte> w0, out Vector256<byte> w1, out Vector256<byte> w2, out Vector256<byte> w3,
        out Vector256<byte> w4, out Vector256<byte> w5, out Vector256<byte> w6, out Vector256<byte> w7) where TP : struct, IPackedBlock
    {
        if (TP.Vectors == 8)
        {
            w0 = Vector256.Load(q); w1 = Vector256.Load(q + 32); w2 = Vector256.Load(q + 64); w3 = Vector256.Load(q + 96);
            w4 = Vector256.Load(q + 128); w5 = Vector256.Load(q + 160); w6 = Vector256.Load(q + 192); w7 = Vector256.Load(q + 224);
            return;
        }
        Vector256<byte> v0 = Vector256.Load(q), v1 = Vector256.Load(q + 32), v2 = Vector256.Load(q + 64), v3 = Vector256.Load(q + 96);
        w0 = v0 & lo; w1 = v1 & lo; w2 = v2 & lo; w3 = v3 & lo;
        w4 = v0 & hi; w5 = v1 & hi; w6 = v2 & hi; w7 = v3 & hi;
    }

    // bias + W . x over one block for 8 rows; x = the token's 32 activation bytes
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> BlockDot<TP>(int* bias, sbyte* x, Vector256<byte> w0, Vector256<byte> w1, Vector256<byte> w2, Vector256<byte> w3,
        Vector256<byte> w4, Vector256<byte> w5, Vector256<byte> w6, Vector256<byte> w7) where TP : struct, IPackedBlock
    {
        int* xi = (int*)x;
        Vector256<int> a = AvxVnni.MultiplyWideningAndAdd(Vector256.Create(*bias), w0, Vector256.Create(xi[0]).AsSByte());
        Vector256<int> b = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, w4, Vector256.Create(xi[4]).AsSByte());
        a = AvxVnni.MultiplyWideningAndAdd(a, w1, Vector256.Create(xi[1]).AsSByte());
        b = AvxVnni.MultiplyWideningAndAdd(b, w5, Vector256.Create(xi[5]).AsSByte());
        a = AvxVnni.MultiplyWideningAndAdd(a, w2, Vector256.Create(xi[2]).AsSByte());
        b = AvxVnni.MultiplyWideningAndAdd(b, w6, Vector256.Create(xi[6]).AsSByte());
        a = AvxVnni.MultiplyWideningAndAdd(a, w3, Vector256.Create(xi[3]).AsSByte());
        b = AvxVnni.MultiplyWideningAndAdd(b, w7, Vector256.Create(xi[7]).AsSByte());
        return TP.HighShift == 0 ? a + b : a + Vector256.ShiftRightArithmetic(b, TP.HighShift);
    }

    // 8 f16 scales -> f32, exact for normal and subnormal values (scales are never inf/NaN): sign-extended to 32 bits,
    // the sign kept at bit 31 and exponent|mantissa moved to f32 position (bits 13..27), then rescaled by 2^(127-15)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Scales(ushort* d, in ScaleConstants c)
    {
        Vector256<int> h = Avx2.ConvertToVector256Int32((short*)d);
        return ((h << 13) & c.Bits).AsSingle() * c.Rescale;
    }

    // loop constants, created once per call so the JIT keeps them in registers instead of reloading them per block
    private readonly struct ScaleConstants
    {
        public readonly Vector256<int> Bits = Vector256.Create(unchecked((int)0x8FFFE000));
        public readonly Vector256<float> Rescale = Vector256.Create((127 + 112) << 23).AsSingle();

        public ScaleConstants()
        {
        }
    }

    // the weight operands pairing with activation chunks k and k + 4 (k < 4) of one (group, block)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pair<TP>(byte* q, int k, Vector256<byte> mlo, Vector256<byte> mhi, out Vector256<byte> lo, out Vector256<byte> hi)
        where TP : struct, IPackedBlock
    {
        if (TP.Vectors == 8)
        {
            lo = Vector256.Load(q + 32 * k);
            hi = Vector256.Load(q + 32 * (k + 4));
            return;
        }
        Vector256<byte> v = Vector256.Load(q + 32 * k);
        lo = v & mlo;
        hi = v & mhi;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Combine<TP>(Vector256<int> a, Vector256<int> b) where TP : struct, IPackedBlock
        => TP.HighShift == 0 ? a + b : a + Vector256.ShiftRightArithmetic(b, TP.HighShift);

    // (y0, y1) (8,) each = two consecutive W groups (8 rows, nb blocks each) . activation row; the activation
    // broadcasts are shared by both groups
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static void Gemv2<TP>(byte* g0, byte* g1, sbyte* xq, float* xd, int* xb, int nb, out Vector256<float> y0, out Vector256<float> y1)
        where TP : struct, IPackedBlock
    {
        int stride = TP.Vectors * 32;
        ushort* d0 = (ushort*)(g0 + (long)nb * stride), d1 = (ushort*)(g1 + (long)nb * stride);
        Vector256<float> acc0 = default, acc1 = default;
        Vector256<byte> mlo = Vector256.Create((byte)0x0F), mhi = Vector256.Create((byte)0xF0);
        var sc = new ScaleConstants();
        for (int b = 0; b < nb; b++)
        {
            byte* p0 = g0 + b * stride, p1 = g1 + b * stride;
            int* xi = (int*)(xq + b * 32);
            Vector256<int> bias = Vector256.Create(xb[b]);
            Vector256<int> a0 = bias, a1 = bias, b0 = Vector256<int>.Zero, b1 = Vector256<int>.Zero;
            Vector256<sbyte> x0 = Vector256.Create(xi[0]).AsSByte(), x4 = Vector256.Create(xi[4]).AsSByte();
            Pair<TP>(p0, 0, mlo, mhi, out var l00, out var h00);
            Pair<TP>(p1, 0, mlo, mhi, out var l10, out var h10);
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, l00, x0);
            b0 = AvxVnni.MultiplyWideningAndAdd(b0, h00, x4);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, l10, x0);
            b1 = AvxVnni.MultiplyWideningAndAdd(b1, h10, x4);
            Vector256<sbyte> x1 = Vector256.Create(xi[1]).AsSByte(), x5 = Vector256.Create(xi[5]).AsSByte();
            Pair<TP>(p0, 1, mlo, mhi, out var l01, out var h01);
            Pair<TP>(p1, 1, mlo, mhi, out var l11, out var h11);
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, l01, x1);
            b0 = AvxVnni.MultiplyWideningAndAdd(b0, h01, x5);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, l11, x1);
            b1 = AvxVnni.MultiplyWideningAndAdd(b1, h11, x5);
            Vector256<sbyte> x2 = Vector256.Create(xi[2]).AsSByte(), x6 = Vector256.Create(xi[6]).AsSByte();
            Pair<TP>(p0, 2, mlo, mhi, out var l02, out var h02);
            Pair<TP>(p1, 2, mlo, mhi, out var l12, out var h12);
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, l02, x2);
            b0 = AvxVnni.MultiplyWideningAndAdd(b0, h02, x6);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, l12, x2);
            b1 = AvxVnni.MultiplyWideningAndAdd(b1, h12, x6);
            Vector256<sbyte> x3 = Vector256.Create(xi[3]).AsSByte(), x7 = Vector256.Create(xi[7]).AsSByte();
            Pair<TP>(p0, 3, mlo, mhi, out var l03, out var h03);
            Pair<TP>(p1, 3, mlo, mhi, out var l13, out var h13);
            a0 = AvxVnni.MultiplyWideningAndAdd(a0, l03, x3);
            b0 = AvxVnni.MultiplyWideningAndAdd(b0, h03, x7);
            a1 = AvxVnni.MultiplyWideningAndAdd(a1, l13, x3);
            b1 = AvxVnni.MultiplyWideningAndAdd(b1, h13, x7);
            Vector256<float> dx = Vector256.Create(xd[b]);
            acc0 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Combine<TP>(a0, b0)), Scales(d0 + b * 8, sc) * dx, acc0);
            acc1 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(Combine<TP>(a1, b1)), Scales(d1 + b * 8, sc) * dx, acc1);
        }
        y0 = acc0;
        y1 = acc1;
    }

    // y (8,) = W group (8 rows, nb blocks) . activation row (qs (nb,32), d (nb,), bias (nb,))
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static Vector256<float> Gemv<TP>(byte* group, sbyte* xq, float* xd, int* xb, int nb) where TP : struct, IPackedBlock
    {
        int stride = TP.Vectors * 32;
        ushort* d = (ushort*)(group + (long)nb * stride);
        Vector256<float> acc0 = default, acc1 = default;
        Vector256<byte> mlo = Vector256.Create((byte)0x0F), mhi = Vector256.Create((byte)0xF0);
        var sc = new ScaleConstants();
        int b = 0;
        for (; b <= nb - 2; b += 2)
        {
            Weights<TP>(group + b * stride, mlo, mhi, out var w0, out var w1, out var w2, out var w3, out var w4, out var w5, out var w6, out var w7);
            Vector256<int> i0 = BlockDot<TP>(xb + b, xq + b * 32, w0, w1, w2, w3, w4, w5, w6, w7);
            acc0 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i0), Scales(d + b * 8, sc) * Vector256.Create(xd[b]), acc0);
            Weights<TP>(group + (b + 1) * stride, mlo, mhi, out w0, out w1, out w2, out w3, out w4, out w5, out w6, out w7);
            Vector256<int> i1 = BlockDot<TP>(xb + b + 1, xq + b * 32 + 32, w0, w1, w2, w3, w4, w5, w6, w7);
            acc1 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i1), Scales(d + b * 8 + 8, sc) * Vector256.Create(xd[b + 1]), acc1);
        }
        if (b < nb)
        {
            Weights<TP>(group + b * stride, mlo, mhi, out var w0, out var w1, out var w2, out var w3, out var w4, out var w5, out var w6, out var w7);
            Vector256<int> i0 = BlockDot<TP>(xb + b, xq + b * 32, w0, w1, w2, w3, w4, w5, w6, w7);
            acc0 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i0), Scales(d + b * 8, sc) * Vector256.Create(xd[b]), acc0);
        }
        return acc0 + acc1;
    }

    // o (4 tokens, 8 rows) = W group . activation rows t0..t3 (duplicates allowed for padding)
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static void Gemm4<TP>(byte* group, in ActivationQ8 x, int t0, int t1, int t2, int t3, float* o) where TP : struct, IPackedBlock
    {
        int nb = x.Blocks, stride = TP.Vectors * 32;
        ushort* d = (ushort*)(group + (long)nb * stride);
        sbyte* q0 = x.RowQs(t0), q1 = x.RowQs(t1), q2 = x.RowQs(t2), q3 = x.RowQs(t3);
        float* d0 = x.RowD(t0), d1 = x.RowD(t1), d2 = x.RowD(t2), d3 = x.RowD(t3);
        int* s0 = x.RowBias(t0), s1 = x.RowBias(t1), s2 = x.RowBias(t2), s3 = x.RowBias(t3);
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        Vector256<byte> mlo = Vector256.Create((byte)0x0F), mhi = Vector256.Create((byte)0xF0);
        var sc = new ScaleConstants();
        for (int b = 0; b < nb; b++)
        {
            Weights<TP>(group + b * stride, mlo, mhi, out var w0, out var w1, out var w2, out var w3, out var w4, out var w5, out var w6, out var w7);
            Vector256<float> dw = Scales(d + b * 8, sc);
            int xo = b * 32;
            Vector256<int> i0 = BlockDot<TP>(s0 + b, q0 + xo, w0, w1, w2, w3, w4, w5, w6, w7);
            a0 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i0), dw * Vector256.Create(d0[b]), a0);
            Vector256<int> i1 = BlockDot<TP>(s1 + b, q1 + xo, w0, w1, w2, w3, w4, w5, w6, w7);
            a1 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i1), dw * Vector256.Create(d1[b]), a1);
            Vector256<int> i2 = BlockDot<TP>(s2 + b, q2 + xo, w0, w1, w2, w3, w4, w5, w6, w7);
            a2 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i2), dw * Vector256.Create(d2[b]), a2);
            Vector256<int> i3 = BlockDot<TP>(s3 + b, q3 + xo, w0, w1, w2, w3, w4, w5, w6, w7);
            a3 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i3), dw * Vector256.Create(d3[b]), a3);
        }
        a0.Store(o); a1.Store(o + 8); a2.Store(o + 16); a3.Store(o + 24);
    }

    // the scalar twin for machines without AVX-VNNI: o (8,) = W group . activation row
    private static void GroupScalar<TP>(byte* group, sbyte* xq, float* xd, int* xb, int nb, float* o) where TP : struct, IPackedBlock
    {
        int stride = TP.Vectors * 32;
        Half* d = (Half*)(group + (long)nb * stride);
        for (int r = 0; r < 8; r++)
        {
            float sum = 0;
            for (int b = 0; b < nb; b++)
            {
                byte* q = group + b * stride + r * 4;
                sbyte* x = xq + b * 32;
                int isum = xb[b];
                for (int v = 0; v < TP.Vectors; v++)
                {
                    for (int k = 0; k < 4; k++)
                    {
                        byte u = q[v * 32 + k];
                        if (TP.Vectors == 8) isum += u * x[4 * v + k];
                        else isum += (u & 0x0F) * x[4 * v + k] + (u >> 4) * x[16 + 4 * v + k];
                    }
                }
                sum += isum * ((float)d[b * 8 + r] * xd[b]);
            }
            o[r] = sum;
        }
    }

    // the scalar twin over a whole Interleaved8 matrix, for tests: y (t, rows) = x (t, cols) @ W^T
    internal static void ForwardScalar(Span<float> y, ReadOnlySpan<float> x, int t, WeightMatrix w)
    {
        if (!w.IsInterleaved8) throw new ArgumentException("matrix is not interleaved");
        int nb = w.Cols / 32, rows = w.Rows;
        void* mem = NativeMemory.AlignedAlloc((nuint)ActivationQ8.BytesFor(t, nb), 64);
        try
        {
            var aq = new ActivationQ8(mem, t, nb, w.Type == DType.Q8_0 ? Q8_0Block.Offset : Q4_0Block.Offset);
            float* o = stackalloc float[8];
            fixed (float* px = x, py = y)
            {
                for (int k = 0; k < t; k++) aq.QuantizeRow(k, px + (long)k * w.Cols);
                for (int g = 0; g < (rows + 7) / 8; g++)
                {
                    for (int k = 0; k < t; k++)
                    {
                        byte* group = w.Data + g * Repack.GroupBytes(w);
                        if (w.Type == DType.Q8_0) GroupScalar<Q8_0x8>(group, aq.RowQs(k), aq.RowD(k), aq.RowBias(k), nb, o);
                        else GroupScalar<Q4_0x8>(group, aq.RowQs(k), aq.RowD(k), aq.RowBias(k), nb, o);
                        for (int r = 0; r < Math.Min(8, rows - g * 8); r++) py[(long)k * rows + g * 8 + r] = o[r];
                    }
                }
            }
        }
        finally
        {
            NativeMemory.AlignedFree(mem);
        }
    }

    // y (t, rows) = x (t, cols) @ W^T over 8-row groups [start, end)
    public struct Job<TP> : IParallelJob where TP : struct, IPackedBlock
    {
        public float* Y;
        public ActivationQ8 X;
        public int T;
        public WeightMatrix W;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
        public void Execute(int start, int end, int thread)
        {
            int rows = W.Rows, nb = X.Blocks;
            long groupBytes = Repack.GroupBytes(W);
            float* o = stackalloc float[32];
            for (int g = start; g < end; g++)
            {
                byte* group = W.Data + g * groupBytes;
                int r0 = g * 8, nr = Math.Min(8, rows - r0);
                if (!AvxVnni.IsSupported)
                {
                    for (int t = 0; t < T; t++)
                    {
                        GroupScalar<TP>(group, X.RowQs(t), X.RowD(t), X.RowBias(t), nb, o);
                        for (int r = 0; r < nr; r++) Y[(long)t * rows + r0 + r] = o[r];
                    }
                    continue;
                }
                if (T == 1 && g + 1 < end && rows - r0 >= 16)
                {
                    Gemv2<TP>(group, group + groupBytes, X.Qs, X.D, X.Bias, nb, out Vector256<float> ya, out Vector256<float> yb);
                    ya.Store(Y + r0);
                    yb.Store(Y + r0 + 8);
                    g++;
                    continue;
                }
                if (T == 1)
                {
                    Vector256<float> y = Gemv<TP>(group, X.Qs, X.D, X.Bias, nb);
                    if (nr == 8) y.Store(Y + r0);
                    else
                    {
                        y.Store(o);
                        for (int r = 0; r < nr; r++) Y[r0 + r] = o[r];
                    }
                    continue;
                }
                for (int tt = 0; tt < T; tt += 4)
                {
                    int nt = Math.Min(4, T - tt);
                    int t1 = tt + Math.Min(1, nt - 1), t2 = tt + Math.Min(2, nt - 1), t3 = tt + Math.Min(3, nt - 1);
                    Gemm4<TP>(group, X, tt, t1, t2, t3, o);
                    for (int k = 0; k < nt; k++)
                    {
                        float* yk = Y + (long)(tt + k) * rows + r0;
                        if (nr == 8) Vector256.Load(o + 8 * k).Store(yk);
                        else for (int r = 0; r < nr; r++) yk[r] = o[8 * k + r];
                    }
                }
            }
        }
    }
}
