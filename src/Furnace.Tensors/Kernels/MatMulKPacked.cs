// Q4_K / Q5_K / Q6_K matmul on Interleaved16 weights (see RepackK for the layout) against Q8_K activation rows, the idea of
// llama.cpp's ggml-cpu/repack.cpp gemv/gemm for q4_K_8x8 with AVX-512: lane r of a 512-bit accumulator is row r's dot
// product. Per (16 rows, super-block, token):
//   16-bit sums   vpmaddubsw(codes (16 rows x 4 bytes), broadcast(4 activation bytes)), added over a sub-block
//                 (Q4_K: 8 products of at most 2*15*127; Q5_K: 4 of 2*31*127; Q6_K: 2 of 2*63*127 — no overflow)
//   isum (16,)    += vpmaddwd(16-bit sums, sub-block scale pairs)                                   exact integers
//   Q4_K, Q5_K    acc = acc - (dmin d_y) msum;  acc = acc + (d d_y) isum,  msum = sum_j m_j (bsum_2j + bsum_2j+1)
//   Q6_K          acc = acc + (d d_y) isum,  isum starting at -32 sum_s sc_s bsum_s (the codes are stored + 32)
// The float steps are those of the row-major AVX2 GEMV (KQuantFused.DotQ4K (fifth: Q5_K) / DotQ6K), so the outputs are
// bit-identical to it in GEMV and GEMM alike.
// GEMV (t <= 2) decodes each 16-row super-block in registers; GEMM (t >= 3) unpacks it once into unsigned codes in
// element order, duplicated scale pairs and float d/dmin (5.6 KB, in L1) and runs tiles of 16 rows x 4 tokens over
// it, the float accumulators of a chunk of 64 tokens kept per thread. Threads split over 16-row groups.
// Needs AVX-512 BW (.NET 10 exposes no 512-bit VNNI on CPUs without AVX10, e.g. Zen 4, so vpmaddubsw + vpmaddwd
// stand in for vpdpbusd). Elsewhere the same integers and float steps run in ScalarGroup (the tests' twin); models
// only repack where the AVX-512 path runs (RepackK.Applies).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Furnace.Tensors;

internal static unsafe class MatMulKPacked
{
    public static bool Accelerated => Avx512BW.IsSupported;

    // bytes of one unpacked 16-row super-block: codes 64 x 64 | scale dups 16 x 64 | pairs 8 x 64 | d 64 | dmin 64
    private const int UnpackedBytes = 4096 + 1024 + 512 + 128;
    private const int UScale = 4096, UPair = 5120, UD = 5632, UDmin = 5696;

    // GEMM tokens per pass over the weights: their Q8_K rows (<= 64 x 292 bytes per super-block column) stay in L2
    private const int TokenChunk = 64;

    // per-thread scratch of the GEMM: the unpacked super-block, 16 float accumulators per token of a chunk and a spare
    public static long ScratchBytes(int t) => UnpackedBytes + ((long)Math.Min(t, TokenChunk) + 1) * 64;

    // 16 f16 at p -> f32, exact for normal and subnormal values (scales are never inf/NaN): sign-extended to 32 bits,
    // the sign kept at bit 31 and exponent|mantissa moved to f32 position (bits 13..27), then rescaled by 2^(127-15)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> HalfToSingle(byte* p)
    {
        Vector512<int> h = Avx512F.ConvertToVector512Int32(Vector256.Load((short*)p));
        return ((h << 13) & Vector512.Create(unchecked((int)0x8FFFE000))).AsSingle() * Vector512.Create((127 + 112) << 23).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<sbyte> Bcast(byte* p) => Vector512.Create(*(int*)p).AsSByte();

    // the shuffle indices, made once (building them per call costs more than a small GEMV)
    private static readonly Vector512<byte> ByteDupIdx = ByteDupIndex(), EvenIdx = PairDupIndex(false), OddIdx = PairDupIndex(true);

    // pshufb index: 16 bytes of per-row values (broadcast to each 128-bit lane) -> int16 pairs (v_r, v_r) in lane r
    private static Vector512<byte> ByteDupIndex()
    {
        Vector128<byte> lane(int k) => Vector128.Create(
            (byte)(4 * k), 0x80, (byte)(4 * k), 0x80, (byte)(4 * k + 1), 0x80, (byte)(4 * k + 1), 0x80,
            (byte)(4 * k + 2), 0x80, (byte)(4 * k + 2), 0x80, (byte)(4 * k + 3), 0x80, (byte)(4 * k + 3), 0x80);
        return Vector512.Create(Vector256.Create(lane(0), lane(1)), Vector256.Create(lane(2), lane(3)));
    }

    // pshufb index: int16 pairs (a_r, b_r) -> (a_r, a_r) (odd: (b_r, b_r))
    private static Vector512<byte> PairDupIndex(bool odd)
    {
        byte o = odd ? (byte)2 : (byte)0;
        return Vector512.Create(Vector128.Create(
            o, (byte)(o + 1), o, (byte)(o + 1), (byte)(o + 4), (byte)(o + 5), (byte)(o + 4), (byte)(o + 5),
            (byte)(o + 8), (byte)(o + 9), (byte)(o + 8), (byte)(o + 9), (byte)(o + 12), (byte)(o + 13), (byte)(o + 12), (byte)(o + 13)));
    }

    // the 16 unsigned scale bytes at p (one per row) as int16 pairs (sc_r, sc_r)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> ByteDup(byte* p, Vector512<byte> idx) =>
        Avx512BW.Shuffle(Avx512F.BroadcastVector128ToVector512((uint*)p).AsByte(), idx).AsInt16();

    // Q4_K (fifth: Q5_K) group (16 rows, nb super-blocks) . Q8_K activation row y -> 16 row sums
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static Vector512<float> GemvQ4K(byte* group, byte* y, int nb, bool fifth)
    {
        int gbb = fifth ? 16 * 180 : 16 * 148;
        Vector512<byte> low4 = Vector512.Create((byte)0x0F), bit4 = Vector512.Create((byte)0x10), dup = ByteDupIdx;
        Vector512<float> acc = default;
        int* pairs = stackalloc int[4];
        for (int b = 0; b < nb; b++)
        {
            byte* o = group + (long)b * gbb, yb = y + (long)b * ActivationQ8K.BlockBytes, q8 = yb + ActivationQ8K.QsOffset;
            // minimum term: the 8 sums of 32 activations (pairs of bsums) against (m_2p, m_2p+1) per row
            Vector256<short> bs = Vector256.Load((short*)(yb + ActivationQ8K.SumsOffset));
            Ssse3.HorizontalAdd(bs.GetLower(), bs.GetUpper()).Store((short*)pairs);
            byte* mn = o + RepackK.K4Mins;
            Vector512<int> msum = Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(mn)), Vector512.Create(pairs[0]).AsInt16());
            msum += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(mn + 32)), Vector512.Create(pairs[1]).AsInt16());
            msum += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(mn + 64)), Vector512.Create(pairs[2]).AsInt16());
            msum += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load(mn + 96)), Vector512.Create(pairs[3]).AsInt16());
            Vector512<float> dy = Vector512.Create(*(float*)yb);
            acc -= HalfToSingle(o + RepackK.K4Dmin) * dy * Vector512.ConvertToSingle(msum);
            Vector512<int> isum = default;
            if (!fifth)
            {
                for (int c = 0; c < 4; c++)
                {
                    byte* ov = o + RepackK.K4Qs + 512 * c, a = q8 + 64 * c;
                    Vector512<short> lo16 = default, hi16 = default;
                    for (int k = 0; k < 8; k++)
                    {
                        Vector512<byte> v = Vector512.Load(ov + 64 * k);
                        lo16 += Avx512BW.MultiplyAddAdjacent(v & low4, Bcast(a + 4 * k));
                        hi16 += Avx512BW.MultiplyAddAdjacent(Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low4, Bcast(a + 32 + 4 * k));
                    }
                    isum += Avx512BW.MultiplyAddAdjacent(lo16, ByteDup(o + RepackK.K4Scales + 32 * c, dup));
                    isum += Avx512BW.MultiplyAddAdjacent(hi16, ByteDup(o + RepackK.K4Scales + 32 * c + 16, dup));
                }
            }
            else
            {
                // Q5_K: step k holds the fifth bits of qs vectors (c, k) for all four chunks c, then those vectors
                Vector512<short> l0 = default, h0 = default, l1 = default, h1 = default, l2 = default, h2 = default, l3 = default, h3 = default;
                for (int k = 0; k < 8; k++)
                {
                    byte* step = o + RepackK.K5Steps + 320 * k, a = q8 + 4 * k;
                    Vector512<ushort> qh = Vector512.Load(step).AsUInt16();
                    Fifth(step + 64, qh, low4, bit4, a, ref l0, ref h0);
                    qh = Vector512.ShiftRightLogical(qh, 2);
                    Fifth(step + 128, qh, low4, bit4, a + 64, ref l1, ref h1);
                    qh = Vector512.ShiftRightLogical(qh, 2);
                    Fifth(step + 192, qh, low4, bit4, a + 128, ref l2, ref h2);
                    qh = Vector512.ShiftRightLogical(qh, 2);
                    Fifth(step + 256, qh, low4, bit4, a + 192, ref l3, ref h3);
                    if ((k & 3) != 3) continue;
                    // 5-bit codes: at most four products per 16-bit sum
                    isum += Avx512BW.MultiplyAddAdjacent(l0, ByteDup(o + RepackK.K4Scales, dup)) + Avx512BW.MultiplyAddAdjacent(h0, ByteDup(o + RepackK.K4Scales + 16, dup));
                    isum += Avx512BW.MultiplyAddAdjacent(l1, ByteDup(o + RepackK.K4Scales + 32, dup)) + Avx512BW.MultiplyAddAdjacent(h1, ByteDup(o + RepackK.K4Scales + 48, dup));
                    isum += Avx512BW.MultiplyAddAdjacent(l2, ByteDup(o + RepackK.K4Scales + 64, dup)) + Avx512BW.MultiplyAddAdjacent(h2, ByteDup(o + RepackK.K4Scales + 80, dup));
                    isum += Avx512BW.MultiplyAddAdjacent(l3, ByteDup(o + RepackK.K4Scales + 96, dup)) + Avx512BW.MultiplyAddAdjacent(h3, ByteDup(o + RepackK.K4Scales + 112, dup));
                    l0 = h0 = l1 = h1 = l2 = h2 = l3 = h3 = default;
                }
            }
            acc += HalfToSingle(o + RepackK.K4D) * dy * Vector512.ConvertToSingle(isum);
        }
        return acc;
    }

    // one Q5_K qs vector at q with its fifth bits at bits 0 (low nibbles) and 1 (high nibbles) of qh, against the
    // activation bytes a (low) and a + 32 (high), into the 16-bit sums lo16 / hi16
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Fifth(byte* q, Vector512<ushort> qh, Vector512<byte> low4, Vector512<byte> bit4, byte* a, ref Vector512<short> lo16, ref Vector512<short> hi16)
    {
        Vector512<byte> v = Vector512.Load(q);
        Vector512<byte> lo = (v & low4) | (Vector512.ShiftLeft(qh, 4).AsByte() & bit4);
        Vector512<byte> hi = (Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low4) | (Vector512.ShiftLeft(qh, 3).AsByte() & bit4);
        lo16 += Avx512BW.MultiplyAddAdjacent(lo, Bcast(a));
        hi16 += Avx512BW.MultiplyAddAdjacent(hi, Bcast(a + 32));
    }

    // Q6_K group (16 rows, nb super-blocks) . Q8_K activation row y -> 16 row sums
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static Vector512<float> GemvQ6K(byte* group, byte* y, int nb)
    {
        const int gbb = 16 * 212;
        Vector512<byte> low4 = Vector512.Create((byte)0x0F), m30 = Vector512.Create((byte)0x30);
        Vector512<byte> even = EvenIdx, odd = OddIdx;
        Vector512<float> acc = default;
        for (int b = 0; b < nb; b++)
        {
            byte* o = group + (long)b * gbb, yb = y + (long)b * ActivationQ8K.BlockBytes, q8 = yb + ActivationQ8K.QsOffset;
            byte* sums = yb + ActivationQ8K.SumsOffset, sc = o + RepackK.K6Scales;
            // zero point 32 leaves through the sums: isum starts at -32 * sum_s sc_s * bsum_s
            Vector512<int> corr = default;
            for (int p = 0; p < 8; p++)
                corr += Avx512BW.MultiplyAddAdjacent(Avx512BW.ConvertToVector512Int16(Vector256.Load((sbyte*)(sc + 32 * p))), Vector512.Create(*(int*)(sums + 4 * p)).AsInt16());
            Vector512<int> isum = Vector512<int>.Zero - (corr << 5);
            for (int h = 0; h < 2; h++)
            {
                for (int q = 0; q < 2; q++)
                {
                    Vector512<short> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int i = 0; i < 4; i++)
                    {
                        byte* step = o + RepackK.K6Codes + 192 * (8 * h + 4 * q + i);
                        Vector512<byte> va = Vector512.Load(step), vc = Vector512.Load(step + 64), hh = Vector512.Load(step + 128);
                        Vector512<ushort> h16 = hh.AsUInt16();
                        Vector512<byte> u0 = (va & low4) | (Vector512.ShiftLeft(h16, 4).AsByte() & m30);
                        Vector512<byte> u1 = (vc & low4) | (Vector512.ShiftLeft(h16, 2).AsByte() & m30);
                        Vector512<byte> u2 = (Vector512.ShiftRightLogical(va.AsUInt16(), 4).AsByte() & low4) | (hh & m30);
                        Vector512<byte> u3 = (Vector512.ShiftRightLogical(vc.AsUInt16(), 4).AsByte() & low4) | (Vector512.ShiftRightLogical(h16, 2).AsByte() & m30);
                        byte* a = q8 + 128 * h + 4 * (4 * q + i);
                        a0 += Avx512BW.MultiplyAddAdjacent(u0, Bcast(a));
                        a1 += Avx512BW.MultiplyAddAdjacent(u1, Bcast(a + 32));
                        a2 += Avx512BW.MultiplyAddAdjacent(u2, Bcast(a + 64));
                        a3 += Avx512BW.MultiplyAddAdjacent(u3, Bcast(a + 96));
                        if ((i & 1) == 0) continue;
                        // two products per 16-bit sum; code k of this step lies in sub-block 8h + 2k + q (pair 4h + k)
                        Vector512<byte> idx = q == 0 ? even : odd;
                        isum += Avx512BW.MultiplyAddAdjacent(a0, PairDup(sc + 32 * (4 * h), idx));
                        isum += Avx512BW.MultiplyAddAdjacent(a1, PairDup(sc + 32 * (4 * h + 1), idx));
                        isum += Avx512BW.MultiplyAddAdjacent(a2, PairDup(sc + 32 * (4 * h + 2), idx));
                        isum += Avx512BW.MultiplyAddAdjacent(a3, PairDup(sc + 32 * (4 * h + 3), idx));
                        a0 = a1 = a2 = a3 = default;
                    }
                }
            }
            acc += HalfToSingle(o + RepackK.K6D) * Vector512.Create(*(float*)yb) * Vector512.ConvertToSingle(isum);
        }
        return acc;
    }

    // 32 int8 (sc_2p, sc_2p+1 per row) at p -> (sc, sc) int16 pairs of the even or odd sub-block
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<short> PairDup(byte* p, Vector512<byte> idx) =>
        Avx512BW.Shuffle(Avx512BW.ConvertToVector512Int16(Vector256.Load((sbyte*)p)).AsByte(), idx).AsInt16();

    // one 16-row super-block at o -> ub: unsigned codes in element order (vector n = elements 4n..4n+3), per 16-value
    // sub-block the (scale, scale) int16 pairs, per pair of sub-blocks the correction pairs (Q4_K: (m_p, m_p), the
    // 32-value min twice; Q6_K: (sc_2p, sc_2p+1)), d and dmin as f32
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    private static void Unpack<TK>(byte* o, byte* ub) where TK : struct, IKQuantBlock
    {
        Vector512<byte> low4 = Vector512.Create((byte)0x0F);
        Vector512<byte> even = EvenIdx, odd = OddIdx;
        if (typeof(TK) == typeof(Q4_KBlock) || typeof(TK) == typeof(Q5_KBlock))
        {
            bool fifth = typeof(TK) == typeof(Q5_KBlock);
            Vector512<byte> bit4 = Vector512.Create((byte)0x10);
            for (int c = 0; c < 4; c++)
            {
                for (int k = 0; k < 8; k++)
                {
                    Vector512<byte> v = Vector512.Load(fifth ? o + RepackK.K5Steps + 320 * k + 64 * (1 + c) : o + RepackK.K4Qs + 512 * c + 64 * k);
                    Vector512<byte> lo = v & low4, hi = Vector512.ShiftRightLogical(v.AsUInt16(), 4).AsByte() & low4;
                    if (fifth)
                    {
                        Vector512<ushort> qh = Vector512.ShiftRightLogical(Vector512.Load(o + RepackK.K5Steps + 320 * k).AsUInt16(), 2 * c);
                        lo |= Vector512.ShiftLeft(qh, 4).AsByte() & bit4;
                        hi |= Vector512.ShiftLeft(qh, 3).AsByte() & bit4;
                    }
                    lo.Store(ub + 64 * (16 * c + k));
                    hi.Store(ub + 64 * (16 * c + 8 + k));
                }
            }
            Vector512<byte> dup = ByteDupIdx;
            for (int j = 0; j < 8; j++)
            {
                Vector512<short> s = ByteDup(o + RepackK.K4Scales + 16 * j, dup);
                s.Store((short*)(ub + UScale + 128 * j));
                s.Store((short*)(ub + UScale + 128 * j + 64));
            }
            for (int q = 0; q < 4; q++)
            {
                Vector512<byte> m = Avx512BW.ConvertToVector512Int16(Vector256.Load(o + RepackK.K4Mins + 32 * q)).AsByte();
                Avx512BW.Shuffle(m, even).Store(ub + UPair + 128 * q);
                Avx512BW.Shuffle(m, odd).Store(ub + UPair + 128 * q + 64);
            }
            HalfToSingle(o + RepackK.K4D).Store((float*)(ub + UD));
            HalfToSingle(o + RepackK.K4Dmin).Store((float*)(ub + UDmin));
            return;
        }
        Vector512<byte> m30 = Vector512.Create((byte)0x30);
        for (int h = 0; h < 2; h++)
        {
            for (int u8 = 0; u8 < 8; u8++)
            {
                byte* step = o + RepackK.K6Codes + 192 * (8 * h + u8);
                Vector512<byte> va = Vector512.Load(step), vc = Vector512.Load(step + 64), hh = Vector512.Load(step + 128);
                Vector512<ushort> h16 = hh.AsUInt16();
                byte* dst = ub + 64 * (32 * h + u8);
                ((va & low4) | (Vector512.ShiftLeft(h16, 4).AsByte() & m30)).Store(dst);
                ((vc & low4) | (Vector512.ShiftLeft(h16, 2).AsByte() & m30)).Store(dst + 512);
                ((Vector512.ShiftRightLogical(va.AsUInt16(), 4).AsByte() & low4) | (hh & m30)).Store(dst + 1024);
                ((Vector512.ShiftRightLogical(vc.AsUInt16(), 4).AsByte() & low4) | (Vector512.ShiftRightLogical(h16, 2).AsByte() & m30)).Store(dst + 1536);
            }
        }
        for (int p = 0; p < 8; p++)
        {
            Vector512<byte> s = Avx512BW.ConvertToVector512Int16(Vector256.Load((sbyte*)(o + RepackK.K6Scales + 32 * p))).AsByte();
            s.Store(ub + UPair + 64 * p);
            Avx512BW.Shuffle(s, even).Store(ub + UScale + 128 * p);
            Avx512BW.Shuffle(s, odd).Store(ub + UScale + 128 * p + 64);
        }
        HalfToSingle(o + RepackK.K6D).Store((float*)(ub + UD));
    }

    // four tokens' super-blocks y0..y3 against the unpacked super-block ub; acc0..acc3 (16 floats each) updated
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    private static void Tile4<TK>(byte* ub, byte* y0, byte* y1, byte* y2, byte* y3, float* acc0, float* acc1, float* acc2, float* acc3)
        where TK : struct, IKQuantBlock
    {
        Vector512<int> i0 = default, i1 = default, i2 = default, i3 = default;
        byte* q0 = y0 + ActivationQ8K.QsOffset, q1 = y1 + ActivationQ8K.QsOffset, q2 = y2 + ActivationQ8K.QsOffset, q3 = y3 + ActivationQ8K.QsOffset;
        for (int s = 0; s < 16; s++)
        {
            Vector512<short> sc = Vector512.Load((short*)(ub + UScale + 64 * s));
            Vector512<short> s0 = default, s1 = default, s2 = default, s3 = default;
            for (int n = 0; n < 4; n++)
            {
                Vector512<byte> w = Vector512.Load(ub + 64 * (4 * s + n));
                int off = 16 * s + 4 * n;
                s0 += Avx512BW.MultiplyAddAdjacent(w, Bcast(q0 + off));
                s1 += Avx512BW.MultiplyAddAdjacent(w, Bcast(q1 + off));
                s2 += Avx512BW.MultiplyAddAdjacent(w, Bcast(q2 + off));
                s3 += Avx512BW.MultiplyAddAdjacent(w, Bcast(q3 + off));
                if (typeof(TK) == typeof(Q6_KBlock) && n == 1)
                {
                    // 6-bit codes: at most two products per 16-bit sum
                    i0 += Avx512BW.MultiplyAddAdjacent(s0, sc);
                    i1 += Avx512BW.MultiplyAddAdjacent(s1, sc);
                    i2 += Avx512BW.MultiplyAddAdjacent(s2, sc);
                    i3 += Avx512BW.MultiplyAddAdjacent(s3, sc);
                    s0 = s1 = s2 = s3 = default;
                }
            }
            i0 += Avx512BW.MultiplyAddAdjacent(s0, sc);
            i1 += Avx512BW.MultiplyAddAdjacent(s1, sc);
            i2 += Avx512BW.MultiplyAddAdjacent(s2, sc);
            i3 += Avx512BW.MultiplyAddAdjacent(s3, sc);
        }
        Finish<TK>(ub, i0, y0, acc0);
        Finish<TK>(ub, i1, y1, acc1);
        Finish<TK>(ub, i2, y2, acc2);
        Finish<TK>(ub, i3, y3, acc3);
    }

    // one token's super-block: the correction through the Q8_K sums, then the float steps of the AVX2 GEMV
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<TK>(byte* ub, Vector512<int> isum, byte* yb, float* acc) where TK : struct, IKQuantBlock
    {
        byte* sums = yb + ActivationQ8K.SumsOffset;
        Vector512<int> corr = default;
        for (int p = 0; p < 8; p++)
            corr += Avx512BW.MultiplyAddAdjacent(Vector512.Load((short*)(ub + UPair + 64 * p)), Vector512.Create(*(int*)(sums + 4 * p)).AsInt16());
        Vector512<float> dy = Vector512.Create(*(float*)yb);
        Vector512<float> a = Vector512.Load(acc);
        if (typeof(TK) == typeof(Q4_KBlock) || typeof(TK) == typeof(Q5_KBlock))
        {
            a -= Vector512.Load((float*)(ub + UDmin)) * dy * Vector512.ConvertToSingle(corr);
            a += Vector512.Load((float*)(ub + UD)) * dy * Vector512.ConvertToSingle(isum);
        }
        else
        {
            a += Vector512.Load((float*)(ub + UD)) * dy * Vector512.ConvertToSingle(isum - (corr << 5));
        }
        a.Store(acc);
    }

    // the scalar twin: o (16,) = W group g . activation row y, through each row's rebuilt ggml blocks with the
    // integer sums and float steps of the AVX-512 path
    internal static void GroupScalar(in WeightMatrix w, int g, byte* y, float* o)
    {
        int nb = w.Cols / DTypes.SuperBlock;
        byte* x = stackalloc byte[DTypes.BlockBytes(w.Type)];
        for (int lane = 0; lane < RepackK.Rows; lane++)
        {
            int r = g * RepackK.Rows + lane;
            if (r >= w.Rows)
            {
                o[lane] = 0;
                continue;
            }
            float acc = 0;
            for (int b = 0; b < nb; b++)
            {
                RepackK.RowBlock(w, r, b, x);
                byte* yb = y + (long)b * ActivationQ8K.BlockBytes;
                sbyte* q8 = KQuant.Qs(yb);
                short* bs = KQuant.Sums(yb);
                float dy = *(float*)yb;
                if (w.Type is DType.Q4_K or DType.Q5_K)
                {
                    bool fifth = w.Type == DType.Q5_K;
                    int isum = 0, msum = 0;
                    for (int j = 0; j < 8; j++)
                    {
                        KQuant.ScaleMinK4(j, x + 4, out int sc, out int m);
                        msum += m * (bs[2 * j] + bs[2 * j + 1]);
                        int dot = 0;
                        for (int l = 0; l < 32; l++)
                        {
                            byte qb = x[(fifth ? 48 : 16) + 32 * (j / 2) + l];
                            int code = (j & 1) == 0 ? qb & 0xF : qb >> 4;
                            if (fifth) code |= ((x[16 + l] >> j) & 1) << 4;
                            dot += code * q8[32 * j + l];
                        }
                        isum += sc * dot;
                    }
                    acc -= KQuant.F16(x + 2) * dy * msum;
                    acc += KQuant.F16(x) * dy * isum;
                }
                else
                {
                    int isum = 0;
                    for (int e = 0; e < 256; e++)
                    {
                        // element e: half h, position l within the half (ggml dequantize_row_q6_K)
                        int h = e / 128, l = e % 128, l32 = l % 32, part = l / 32;
                        byte ql = x[64 * h + l32 + (part & 1) * 32];
                        int low = part < 2 ? ql & 0xF : ql >> 4;
                        int high = (x[128 + 32 * h + l32] >> (2 * part)) & 3;
                        isum += ((sbyte*)(x + 192))[e / 16] * ((low | (high << 4)) - 32) * q8[e];
                    }
                    acc += KQuant.F16(x + 208) * dy * isum;
                }
            }
            o[lane] = acc;
        }
    }

    // the scalar twin over a whole Interleaved16 matrix, for tests: y (t, rows) = x (t, cols) @ W^T
    internal static void ForwardScalar(Span<float> y, ReadOnlySpan<float> x, int t, WeightMatrix w)
    {
        if (w.Layout != WeightLayout.Interleaved16) throw new ArgumentException("matrix is not Interleaved16");
        int nb = w.Cols / DTypes.SuperBlock, rows = w.Rows;
        var aq = new byte[ActivationQ8K.BytesFor(t, nb)];
        float* o = stackalloc float[RepackK.Rows];
        fixed (float* px = x)
        fixed (byte* pa = aq)
        {
            var xq = new ActivationQ8K(pa, nb);
            for (int i = 0; i < t; i++) xq.QuantizeRow(i, px + (long)i * w.Cols);
            for (int g = 0; g < (rows + RepackK.Rows - 1) / RepackK.Rows; g++)
            {
                for (int i = 0; i < t; i++)
                {
                    GroupScalar(w, g, xq.Row(i), o);
                    for (int r = 0; r < Math.Min(RepackK.Rows, rows - g * RepackK.Rows); r++) y[i * rows + g * RepackK.Rows + r] = o[r];
                }
            }
        }
    }

    // y (t, rows) = x (t, cols) @ W^T over 16-row groups [start, end), x given as Q8_K activation rows
    public struct Job<TK> : IParallelJob where TK : struct, IKQuantBlock
    {
        public float* Y;
        public ActivationQ8K X;
        public int T;
        public WeightMatrix W;
        public byte* Scratch;    // (threads, ScratchBytes(T)) for the GEMM
        public long ScratchStride;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private static Vector512<float> Gemv(byte* group, byte* y, int nb) =>
            typeof(TK) == typeof(Q6_KBlock) ? GemvQ6K(group, y, nb) : GemvQ4K(group, y, nb, typeof(TK) == typeof(Q5_KBlock));

        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
        public void Execute(int start, int end, int thread)
        {
            int rows = W.Rows, nb = X.Blocks;
            long groupBytes = RepackK.GroupBytes(W);
            float* o = stackalloc float[RepackK.Rows];
            if (!Accelerated || T <= 2)
            {
                for (int g = start; g < end; g++)
                {
                    byte* group = W.Data + g * groupBytes;
                    int r0 = g * RepackK.Rows, nr = Math.Min(RepackK.Rows, rows - r0);
                    for (int t = 0; t < T; t++)
                    {
                        float* yt = Y + (long)t * rows + r0;
                        if (!Accelerated) GroupScalar(W, g, X.Row(t), o);
                        else if (nr == RepackK.Rows)
                        {
                            Gemv(group, X.Row(t), nb).Store(yt);
                            continue;
                        }
                        else Gemv(group, X.Row(t), nb).Store(o);
                        for (int r = 0; r < nr; r++) yt[r] = o[r];
                    }
                }
                return;
            }
            byte* ub = Scratch + thread * ScratchStride;
            float* acc = (float*)(ub + UnpackedBytes);
            int gbb = RepackK.GroupBlockBytes(W.Type);
            // tokens in chunks whose activations stay in L2 (each 16-row super-block is unpacked once per chunk)
            for (int c0 = 0; c0 < T; c0 += TokenChunk)
            {
                int c1 = Math.Min(T, c0 + TokenChunk), ct = c1 - c0;
                float* spare = acc + (long)ct * RepackK.Rows;
                for (int g = start; g < end; g++)
                {
                    byte* group = W.Data + g * groupBytes;
                    new Span<float>(acc, ct * RepackK.Rows).Clear();
                    for (int b = 0; b < nb; b++)
                    {
                        Unpack<TK>(group + (long)b * gbb, ub);
                        long yo = (long)b * ActivationQ8K.BlockBytes;
                        for (int tt = c0; tt < c1; tt += 4)
                        {
                            int nt = Math.Min(4, c1 - tt);
                            // a partial tile repeats its last token into the spare accumulator
                            byte* y0 = X.Row(tt) + yo;
                            byte* y1 = X.Row(tt + Math.Min(1, nt - 1)) + yo, y2 = X.Row(tt + Math.Min(2, nt - 1)) + yo, y3 = X.Row(tt + Math.Min(3, nt - 1)) + yo;
                            float* a0 = acc + (tt - c0) * RepackK.Rows;
                            float* a1 = nt > 1 ? a0 + RepackK.Rows : spare, a2 = nt > 2 ? a0 + 2 * RepackK.Rows : spare, a3 = nt > 3 ? a0 + 3 * RepackK.Rows : spare;
                            Tile4<TK>(ub, y0, y1, y2, y3, a0, a1, a2, a3);
                        }
                    }
                    int r0 = g * RepackK.Rows, nr = Math.Min(RepackK.Rows, rows - r0);
                    for (int t = c0; t < c1; t++)
                    {
                        float* yt = Y + (long)t * rows + r0, at = acc + (t - c0) * RepackK.Rows;
                        if (nr == RepackK.Rows) Vector512.Load(at).Store(yt);
                        else for (int r = 0; r < nr; r++) yt[r] = at[r];
                    }
                }
            }
        }
    }
}
