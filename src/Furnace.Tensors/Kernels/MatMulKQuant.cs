// K-quant and IQ4_XS weight rows against Q8_K activation rows (ActivationQ8K), mirroring ggml-cpu's
// ggml_vec_dot_q2_K_q8_K, _q3_K_q8_K, _q4_K_q8_K, _q5_K_q8_K, _q6_K_q8_K and _iq4_xs_q8_K (quants.c generic versions
// and arch/x86/quants.c): per 256-value super-block an exact integer sum of sub-block scale x sub-block dot, then
//   sum += (d_w * d_y) * isum  [- (dmin_w * d_y) * sum(min_s * bsum_s)  for Q2_K, Q4_K, Q5_K].
// GEMV (t == 1) runs fused kernels (MatMulKQuantFused), as do the Q4_K/Q5_K/IQ4_XS GEMMs (4-token tiles). The other GEMMs
// unpack each weight row once per chunk of 32 tokens into unsigned codes u (256 bytes per super-block, value =
// u - Offset) and int16 scales per 16 values, kept in L1, then one ScaledDot per super-block and token; the zero point
// leaves exactly through the Q8_K block sums:
//   sum_s sc_s * (u_s . q_s - Offset * bsum_s).
// ScaledDot: AVX-VNNI vpdpbusd (u8 x s8) per 32 bytes, sub-block sums by two hadds, scales by vpmulld; AVX2 without VNNI
// widens to int16, folds the scale into the codes (|u * sc| < 2^13) and uses vpmaddwd. DotScalar<T> is each type's
// scalar twin, the ggml generic function written out from the block bytes.
// Written from ggml's published formulas (no llama.cpp source copied); checked against the ggml-cpu shipped in
// LLamaSharp.Backend.Cpu 0.30.0 (tests/Furnace.Oracle.Tests/QuantKernelOracleTests.cs).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Furnace.Tensors;

internal unsafe interface IKQuantBlock
{
    static abstract int BlockBytes { get; }

    static abstract int Offset { get; } // value = unsigned code - Offset

    static abstract bool HasMin { get; } // dmin * min_s is subtracted per sub-block (Q2_K, Q4_K, Q5_K)

    // super-block at blk -> u (256,) unsigned codes in element order, sc (16,) signed scale of each 16 values,
    // mn (16,) mins (HasMin only); returns d, with dmin (0 without mins)
    static abstract float Unpack(byte* blk, byte* u, short* sc, short* mn, out float dmin);

    // w row (nb super-blocks) . y (nb block_q8_K) -> scalar, ggml_vec_dot_<type>_q8_K_generic
    static abstract float DotScalar(byte* w, byte* y, int nb);
}

internal static unsafe class KQuant
{
    public static readonly Vector256<byte> Low4 = Vector256.Create((byte)0x0F);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float F16(byte* p) => HalfTable.Pointer[*(ushort*)p];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static sbyte* Qs(byte* y) => (sbyte*)(y + ActivationQ8K.QsOffset);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static short* Sums(byte* y) => (short*)(y + ActivationQ8K.SumsOffset);

    // ggml get_scale_min_k4: the j-th (0..7) 6-bit scale and min of Q4_K/Q5_K's 12 packed bytes
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScaleMinK4(int j, byte* q, out int d, out int m)
    {
        if (j < 4)
        {
            d = q[j] & 63;
            m = q[j + 4] & 63;
        }
        else
        {
            d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    // sum_s a[s] * b[s] over 16 int16 pairs, as 8 int32 lanes to be summed
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> Dot16(short* a, short* b)
    {
        if (Avx2.IsSupported) return Avx2.MultiplyAddAdjacent(Vector256.Load(a), Vector256.Load(b));
        int s = 0;
        for (int i = 0; i < 16; i++) s += a[i] * b[i];
        return Vector256.CreateScalar(s);
    }

    // u (256,) unsigned codes, sc (16,) scales, y one block_q8_K -> sum_s sc_s * (u_s . q_s - offset * bsum_s),
    // as 8 int32 lanes to be summed (the caller reduces once per row)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<int> ScaledDot(byte* u, short* sc, byte* y, int offset)
    {
        sbyte* q = Qs(y);
        Vector256<int> corr = offset == 0 ? default : Dot16(sc, Sums(y)) * offset;
        if (AvxVnni.IsSupported)
        {
            Vector256<int> total = Vector256<int>.Zero - corr;
            Vector256<int> order = Vector256.Create(0, 2, 4, 6, 1, 3, 5, 7);
            for (int g = 0; g < 2; g++)
            {
                byte* ug = u + 128 * g;
                sbyte* qg = q + 128 * g;
                Vector256<int> a0 = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Vector256.Load(ug), Vector256.Load(qg));
                Vector256<int> a1 = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Vector256.Load(ug + 32), Vector256.Load(qg + 32));
                Vector256<int> a2 = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Vector256.Load(ug + 64), Vector256.Load(qg + 64));
                Vector256<int> a3 = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Vector256.Load(ug + 96), Vector256.Load(qg + 96));
                // lanes: sub-blocks [0, 2, 4, 6 | 1, 3, 5, 7] of this group of eight
                Vector256<int> s = Avx2.HorizontalAdd(Avx2.HorizontalAdd(a0, a1), Avx2.HorizontalAdd(a2, a3));
                Vector256<int> scv = Avx2.PermuteVar8x32(Avx2.ConvertToVector256Int32(Vector128.Load(sc + 8 * g)), order);
                total += Avx2.MultiplyLow(s, scv);
            }
            return total;
        }
        if (Avx2.IsSupported)
        {
            Vector256<int> total = Vector256<int>.Zero - corr;
            for (int s = 0; s < 16; s++)
            {
                Vector256<short> w = Avx2.ConvertToVector256Int16(Vector128.Load(u + 16 * s)) * Vector256.Create(sc[s]);
                total += Avx2.MultiplyAddAdjacent(w, Avx2.ConvertToVector256Int16(Vector128.Load(q + 16 * s)));
            }
            return total;
        }
        int isum = 0;
        for (int s = 0; s < 16; s++)
        {
            int d = 0;
            for (int i = 0; i < 16; i++) d += u[16 * s + i] * q[16 * s + i];
            isum += sc[s] * d;
        }
        return Vector256.CreateScalar(isum) - corr;
    }

    // Q4_K/Q5_K/IQ4_XS GEMM by fused 4-token tiles (else through the unpacked rows); a switch for A/B measurements
    internal static bool FusedGemm = true;

    // scratch bytes one thread needs for Dot
    public const int ScratchBytes = 256 + 32 + 32;

    // w row (nb super-blocks) . y (nb block_q8_K) -> scalar; scratch holds ScratchBytes
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static float Dot<TK>(byte* w, byte* y, int nb, byte* scratch) where TK : struct, IKQuantBlock
    {
        if (Avx2.IsSupported)
        {
            // GEMV gets fused kernels (no unpack buffer)
            if (typeof(TK) == typeof(Q2_KBlock)) return KQuantFused.DotQ2K(w, y, nb);
            if (typeof(TK) == typeof(Q3_KBlock)) return KQuantFused.DotQ3K(w, y, nb);
            if (typeof(TK) == typeof(Q4_KBlock)) return KQuantFused.DotQ4K(w, y, nb, fifth: false);
            if (typeof(TK) == typeof(Q5_KBlock)) return KQuantFused.DotQ4K(w, y, nb, fifth: true);
            if (typeof(TK) == typeof(Q6_KBlock)) return KQuantFused.DotQ6K(w, y, nb);
            if (typeof(TK) == typeof(IQ4_XSBlock)) return KQuantFused.DotIQ4XS(w, y, nb);
        }
        byte* u = scratch;
        short* sc = (short*)(scratch + 256), mn = sc + 16;
        int bb = TK.BlockBytes;
        float sum = 0;
        for (int b = 0; b < nb; b++)
        {
            float dw = TK.Unpack(w + b * bb, u, sc, mn, out float dmin);
            sum += Block<TK>(u, sc, mn, y + b * ActivationQ8K.BlockBytes, dw, dmin);
        }
        return sum;
    }

    // bytes of one unpacked weight row of nb super-blocks: codes (nb, 256) | scales (nb, 16) i16 | mins (nb, 16) i16 |
    // d (nb,) | dmin (nb,)
    public static long UnpackedRowBytes(int nb) => (long)nb * (256 + 32 + 32 + 8);

    // w row (nb super-blocks) -> the unpacked layout at p
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static void UnpackRow<TK>(byte* w, int nb, byte* p) where TK : struct, IKQuantBlock
    {
        short* sc = (short*)(p + (long)nb * 256), mn = sc + nb * 16;
        float* d = (float*)(mn + nb * 16), dmin = d + nb;
        for (int b = 0; b < nb; b++) d[b] = TK.Unpack(w + b * TK.BlockBytes, p + b * 256, sc + b * 16, mn + b * 16, out dmin[b]);
    }

    // unpacked weight row p (nb super-blocks) . y (nb block_q8_K) -> scalar
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static float DotUnpacked<TK>(byte* p, byte* y, int nb) where TK : struct, IKQuantBlock
    {
        short* sc = (short*)(p + (long)nb * 256), mn = sc + nb * 16;
        float* d = (float*)(mn + nb * 16), dmin = d + nb;
        float s = 0;
        for (int b = 0; b < nb; b++) s += Block<TK>(p + b * 256, sc + b * 16, mn + b * 16, y + b * ActivationQ8K.BlockBytes, d[b], dmin[b]);
        return s;
    }

    // one super-block's contribution d_w d_y isum - dmin_w d_y msum, the integer sums reduced exactly first (summing
    // lanes in float would lose digits to the cancelling zero-point lanes)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Block<TK>(byte* u, short* sc, short* mn, byte* yb, float dw, float dmin) where TK : struct, IKQuantBlock
    {
        float dy = *(float*)yb;
        float r = dw * dy * Vector256.Sum(ScaledDot(u, sc, yb, TK.Offset));
        if (TK.HasMin) r -= dmin * dy * Vector256.Sum(Dot16(mn, Sums(yb)));
        return r;
    }

    // y (t, rows) = x (t, cols) @ W^T over rows [start, end), x given as Q8_K activation rows
    public struct Job<TK> : IParallelJob where TK : struct, IKQuantBlock
    {
        public float* Y;
        public ActivationQ8K X;
        public int T;
        public WeightMatrix W;
        public byte* Unpacked; // (threads, UnpackedRowBytes) for T > 1

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
        public void Execute(int start, int end, int thread)
        {
            int rows = W.Rows, nb = X.Blocks;
            byte* scratch = stackalloc byte[ScratchBytes];
            if (T == 1)
            {
                for (int r = start; r < end; r++) Y[r] = Dot<TK>(W.Row(r), X.Data, nb, scratch);
                return;
            }
            if (FusedGemm && Avx2.IsSupported && (typeof(TK) == typeof(Q4_KBlock) || typeof(TK) == typeof(Q5_KBlock) || typeof(TK) == typeof(IQ4_XSBlock)))
            {
                Tiles(start, end, typeof(TK) == typeof(Q5_KBlock));
                return;
            }
            // GEMM: each weight row is unpacked once per chunk of tokens (whose activations stay in L2) and stays in L1
            byte* row = Unpacked + thread * UnpackedRowBytes(nb);
            const int chunk = 32;
            for (int t0 = 0; t0 < T; t0 += chunk)
            {
                int t1 = Math.Min(T, t0 + chunk);
                for (int r = start; r < end; r++)
                {
                    UnpackRow<TK>(W.Row(r), nb, row);
                    for (int t = t0; t < t1; t++) Y[(long)t * rows + r] = DotUnpacked<TK>(row, X.Row(t), nb);
                }
            }
        }

        // Q4_K/Q5_K/IQ4_XS GEMM: rows in blocks that stay in L2, token tiles of four sharing each decoded super-block
        private readonly void Tiles(int start, int end, bool fifth)
        {
            int rows = W.Rows, nb = X.Blocks;
            float* o = stackalloc float[4];
            int rowBlock = Math.Max(1, (256 * 1024) / (int)Math.Min(W.RowBytes, 256 * 1024));
            for (int rb = start; rb < end; rb += rowBlock)
            {
                int re = Math.Min(end, rb + rowBlock);
                for (int tt = 0; tt < T; tt += 4)
                {
                    int nt = Math.Min(4, T - tt);
                    byte* y0 = X.Row(tt), y1 = X.Row(tt + Math.Min(1, nt - 1)), y2 = X.Row(tt + Math.Min(2, nt - 1)), y3 = X.Row(tt + Math.Min(3, nt - 1));
                    for (int r = rb; r < re; r++)
                    {
                        if (typeof(TK) == typeof(IQ4_XSBlock)) KQuantFused.TileIQ4XS(W.Row(r), nb, y0, y1, y2, y3, o);
                        else KQuantFused.TileQ4K(W.Row(r), nb, fifth, y0, y1, y2, y3, o);
                        for (int k = 0; k < nt; k++) Y[(long)(tt + k) * rows + r] = o[k];
                    }
                }
            }
        }
    }

    // activation rows [start, end) of x (t, cols) -> Q8_K blocks
    public struct QuantizeJob : IParallelJob
    {
        public ActivationQ8K Out;
        public float* X;
        public int Cols;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
        public void Execute(int start, int end, int thread)
        {
            for (int i = start; i < end; i++) Out.QuantizeRow(i, X + (long)i * Cols);
        }
    }
}
