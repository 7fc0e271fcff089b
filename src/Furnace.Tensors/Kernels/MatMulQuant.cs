// Quantized-weight matmul kernels for the 32-value block types: Q8_0 / Q4_0 / Q5_0 / IQ4_NL weight rows against
// Q8_0-quantized activations and Q4_1 / Q5_1 against Q8_1 (ActivationQ8), mirroring ggml-cpu's ggml_vec_dot_q8_0_q8_0,
// _q4_0_q8_0, _q5_0_q8_0, _iq4_nl_q8_0, _q4_1_q8_1, _q5_1_q8_1: per 32-block an exact integer dot, then
// sum += isum * d_x * d_w in f32 (ggml rounds d_w * d_x first; the difference is one f32 rounding per block), and for
// the types with a minimum (Q4_1, Q5_1) + m_w * s_x.
// With AVX-VNNI (vpdpbusd: u8 x s8 -> i32) the weights are made unsigned and the offset removed exactly through
// the accumulator's start value, using the activation block sums:
//   Q8_0: (w + 128) . x - 128 * sum(x)       (w + 128 = w ^ 0x80 as a byte)
//   Q4_0: q . x - 8 * sum(x)                 (q = stored nibble in 0..15; value = q - 8)
//   Q5_0: q . x - 16 * sum(x)                (q = nibble | fifth bit << 4; value = q - 16)
//   IQ4_NL: (k + 128) . x - 128 * sum(x)     (k = kvalues_iq4nl[index], looked up shifted with pshufb)
//   Q4_1, Q5_1: q . x                        (unsigned already; value = d * q + m)
// Without VNNI the same integer sums are formed in scalar code.
// Port pressure shapes the inner block (port 5 is the bottleneck on Intel): nibbles are split with a broadcast load
// and a per-lane variable shift instead of an insert, the bias enters through a scalar load, and both scales are
// broadcast straight from memory (dx as an embedded broadcast operand, dw from the f16 table).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Furnace.Tensors;

internal unsafe interface IQuantBlock
{
    static abstract int BlockBytes { get; }

    static abstract int Offset { get; } // weight zero point removed through the activation sums (128 or 8)

    // the 32 weights of the block at blk as unsigned bytes in element order (value + Offset)
    static abstract Vector256<byte> Unsigned(byte* blk);

    static abstract int UnsignedScalar(byte* blk, int j);

    static abstract bool HasMin { get; } // f16 m at byte 2 (Q4_1, Q5_1), paired with the Q8_1 activation sum s
}

internal readonly unsafe struct Q8_0Block : IQuantBlock
{
    public static int BlockBytes => BlockQ8_0.Size;

    public static int Offset => 128;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unsigned(byte* blk) => Vector256.Load(blk + 2) ^ Vector256.Create((byte)0x80);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int UnsignedScalar(byte* blk, int j) => ((sbyte*)(blk + 2))[j] + 128;

    public static bool HasMin => false;
}

internal readonly unsafe struct Q4_0Block : IQuantBlock
{
    public static int BlockBytes => BlockQ4_0.Size;

    public static int Offset => 8;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unsigned(byte* blk)
    {
        if (Avx2.IsSupported)
        {
            // [bytes | bytes] >> [0 | 4] per dword, then the low nibble of every byte: elements 0..15 | 16..31
            Vector256<uint> both = Avx2.BroadcastVector128ToVector256(blk + 2).AsUInt32();
            Vector256<uint> shifted = Avx2.ShiftRightLogicalVariable(both, Vector256.Create(0u, 0, 0, 0, 4, 4, 4, 4));
            return shifted.AsByte() & Vector256.Create((byte)0x0F);
        }
        Vector128<byte> v = Vector128.Load(blk + 2);
        Vector128<byte> m = Vector128.Create((byte)0x0F);
        return Vector256.Create(v & m, Vector128.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & m);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int UnsignedScalar(byte* blk, int j) => j < 16 ? blk[2 + j] & 0x0F : blk[2 + j - 16] >> 4;

    public static bool HasMin => false;
}

internal static unsafe class MatMulQuant
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Start(int* bias) => Sse2.LoadScalarVector128(bias).ToVector256Unsafe();

    // acc + (float)idot * dx * dw, broadcasting both scales from memory
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Accumulate(Vector256<int> idot, float* dx, byte* blk, float* f16, Vector256<float> acc)
        => Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(idot) * Vector256.Create(*dx), Vector256.Create(f16[*(ushort*)blk]), acc);

    // w row (nb blocks) . activation row (xq (nb,32), xd (nb,), xb (nb,) biases for TB.Offset, xs (nb,) Q8_1 sums) -> scalar
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static float Dot<TB>(byte* w, sbyte* xq, float* xd, int* xb, float* xs, int nb) where TB : struct, IQuantBlock
    {
        int bb = TB.BlockBytes;
        float* f16 = HalfTable.Pointer;
        if (AvxVnni.IsSupported)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int b = 0;
            for (; b <= nb - 4; b += 4)
            {
                byte* p = w + b * bb;
                a0 = BlockFma<TB>(p, xq + b * 32, xd + b, xb + b, f16, a0);
                a1 = BlockFma<TB>(p + bb, xq + b * 32 + 32, xd + b + 1, xb + b + 1, f16, a1);
                a2 = BlockFma<TB>(p + 2 * bb, xq + b * 32 + 64, xd + b + 2, xb + b + 2, f16, a2);
                a3 = BlockFma<TB>(p + 3 * bb, xq + b * 32 + 96, xd + b + 3, xb + b + 3, f16, a3);
            }
            for (; b < nb; b++) a0 = BlockFma<TB>(w + b * bb, xq + b * 32, xd + b, xb + b, f16, a0);
            float r = Vector256.Sum((a0 + a1) + (a2 + a3));
            return TB.HasMin ? r + MinSum(w, bb, xs, nb) : r;
        }
        return DotScalar<TB>(w, xq, xd, xb, xs, nb);
    }

    // scalar twin of Dot: ggml_vec_dot_<type>_q8_0/_q8_1 generic, with the zero point removed through xb
    public static float DotScalar<TB>(byte* w, sbyte* xq, float* xd, int* xb, float* xs, int nb) where TB : struct, IQuantBlock
    {
        int bb = TB.BlockBytes;
        float* f16 = HalfTable.Pointer;
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            byte* p = w + b * bb;
            int isum = xb[b];
            for (int j = 0; j < 32; j++) isum += TB.UnsignedScalar(p, j) * xq[b * 32 + j];
            sum += isum * (f16[*(ushort*)p] * xd[b]);
            if (TB.HasMin) sum += f16[*(ushort*)(p + 2)] * xs[b];
        }
        return sum;
    }

    // sum_b m_b * s_b: the minimum term of Q4_1/Q5_1 against Q8_1
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float MinSum(byte* w, int bb, float* xs, int nb)
    {
        float* f16 = HalfTable.Pointer;
        float s = 0;
        for (int b = 0; b < nb; b++) s += f16[*(ushort*)(w + b * bb + 2)] * xs[b];
        return s;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> BlockFma<TB>(byte* blk, sbyte* xq, float* xd, int* xb, float* f16, Vector256<float> acc)
        where TB : struct, IQuantBlock
        => Accumulate(AvxVnni.MultiplyWideningAndAdd(Start(xb), TB.Unsigned(blk), Vector256.Load(xq)), xd, blk, f16, acc);

    // one weight row against four activation token rows (duplicates allowed for padding) -> o[0..3]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static void Tile1x4<TB>(byte* w, in ActivationQ8 x, int t0, int t1, int t2, int t3, float* o) where TB : struct, IQuantBlock
    {
        int nb = x.Blocks, bb = TB.BlockBytes;
        sbyte* q0 = x.RowQs(t0), q1 = x.RowQs(t1), q2 = x.RowQs(t2), q3 = x.RowQs(t3);
        float* d0 = x.RowD(t0), d1 = x.RowD(t1), d2 = x.RowD(t2), d3 = x.RowD(t3);
        int* s0 = x.RowBias(t0), s1 = x.RowBias(t1), s2 = x.RowBias(t2), s3 = x.RowBias(t3);
        float* f16 = HalfTable.Pointer;
        if (AvxVnni.IsSupported)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (int b = 0; b < nb; b++)
            {
                byte* p = w + b * bb;
                Vector256<byte> u = TB.Unsigned(p);
                Vector256<float> vdw = Vector256.Create(f16[*(ushort*)p]);
                int xo = b * 32;
                Vector256<int> i0 = AvxVnni.MultiplyWideningAndAdd(Start(s0 + b), u, Vector256.Load(q0 + xo));
                Vector256<int> i1 = AvxVnni.MultiplyWideningAndAdd(Start(s1 + b), u, Vector256.Load(q1 + xo));
                Vector256<int> i2 = AvxVnni.MultiplyWideningAndAdd(Start(s2 + b), u, Vector256.Load(q2 + xo));
                Vector256<int> i3 = AvxVnni.MultiplyWideningAndAdd(Start(s3 + b), u, Vector256.Load(q3 + xo));
                a0 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i0) * Vector256.Create(d0[b]), vdw, a0);
                a1 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i1) * Vector256.Create(d1[b]), vdw, a1);
                a2 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i2) * Vector256.Create(d2[b]), vdw, a2);
                a3 = Vector256.FusedMultiplyAdd(Avx.ConvertToVector256Single(i3) * Vector256.Create(d3[b]), vdw, a3);
            }
            o[0] = Vector256.Sum(a0); o[1] = Vector256.Sum(a1); o[2] = Vector256.Sum(a2); o[3] = Vector256.Sum(a3);
            if (TB.HasMin)
            {
                o[0] += MinSum(w, bb, x.RowS(t0), nb);
                o[1] += MinSum(w, bb, x.RowS(t1), nb);
                o[2] += MinSum(w, bb, x.RowS(t2), nb);
                o[3] += MinSum(w, bb, x.RowS(t3), nb);
            }
            return;
        }
        o[0] = Dot<TB>(w, q0, d0, s0, x.RowS(t0), nb);
        o[1] = Dot<TB>(w, q1, d1, s1, x.RowS(t1), nb);
        o[2] = Dot<TB>(w, q2, d2, s2, x.RowS(t2), nb);
        o[3] = Dot<TB>(w, q3, d3, s3, x.RowS(t3), nb);
    }

    // y (t, rows) = x (t, cols) @ W^T over rows [start, end), x given as Q8 activation rows
    public struct Job<TB> : IParallelJob where TB : struct, IQuantBlock
    {
        public float* Y;
        public ActivationQ8 X;
        public int T;
        public WeightMatrix W;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
        public void Execute(int start, int end, int thread)
        {
            int rows = W.Rows, nb = X.Blocks;
            if (T == 1)
            {
                for (int r = start; r < end; r++) Y[r] = Dot<TB>(W.Row(r), X.Qs, X.D, X.Bias, X.S, nb);
                return;
            }
            float* o = stackalloc float[4];
            int rowBlock = Math.Max(1, (256 * 1024) / (int)Math.Min(W.RowBytes, 256 * 1024));
            for (int rb = start; rb < end; rb += rowBlock)
            {
                int re = Math.Min(end, rb + rowBlock);
                for (int tt = 0; tt < T; tt += 4)
                {
                    int nt = Math.Min(4, T - tt);
                    int t1 = tt + Math.Min(1, nt - 1), t2 = tt + Math.Min(2, nt - 1), t3 = tt + Math.Min(3, nt - 1);
                    for (int r = rb; r < re; r++)
                    {
                        Tile1x4<TB>(W.Row(r), X, tt, t1, t2, t3, o);
                        for (int k = 0; k < nt; k++) Y[(long)(tt + k) * rows + r] = o[k];
                    }
                }
            }
        }
    }

    // activation rows [start, end) of x (t, cols) -> Q8 blocks
    public struct QuantizeJob : IParallelJob
    {
        public ActivationQ8 Out;
        public float* X;
        public int Cols;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
        public void Execute(int start, int end, int thread)
        {
            for (int i = start; i < end; i++) Out.QuantizeRow(i, X + (long)i * Cols);
        }
    }
}
