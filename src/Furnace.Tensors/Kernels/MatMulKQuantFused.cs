// Fused dot products for Q2_K … Q6_K and IQ4_XS against Q8_K (the bulk of a Q4_K_M / Q5_K_M / IQ4_XS file), following
// the structure of ggml-cpu arch/x86/quants.c ggml_vec_dot_q2_K_q8_K … _q6_K_q8_K and _iq4_xs_q8_K (AVX2): codes are
// split in registers, vpmaddubsw (u8 x s8 -> i16 pairs; no saturation: codes < 64, and IQ4_XS multiplies |k| <= 127 by
// q8 carrying k's sign) per 32 values, then the sub-block scale enters through vpdpwssd (AVX-VNNI) or vpmaddwd into one
// int32 vector per super-block, reduced exactly before its float scale. The 6-bit scales and mins of Q4_K/Q5_K (and
// Q3_K's scales) are decoded with ggml's 32-bit mask shuffle (kmask1..3).
// GEMV uses one row at a time; TileQ4K / TileIQ4XS are the Q4_K/Q5_K/IQ4_XS GEMM tiles (one decoded super-block, four
// tokens).
// Scalar twins: Q2_KBlock … Q6_KBlock / IQ4_XSBlock.DotScalar.
// Written from ggml's published formulas (no llama.cpp source copied); checked against the ggml-cpu shipped in
// LLamaSharp.Backend.Cpu 0.30.0 (tests/Furnace.Oracle.Tests/QuantKernelOracleTests.cs).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Furnace.Tensors;

internal static unsafe class KQuantFused
{
    // acc + p (16 i16) * s (16 i16), pairwise into 8 i32
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> MulAdd(Vector256<int> acc, Vector256<short> p, Vector256<short> s)
        => AvxVnni.IsSupported ? AvxVnni.MultiplyWideningAndAdd(acc, p, s) : acc + Avx2.MultiplyAddAdjacent(p, s);

    // Q4_K (fifth: Q5_K) row w (nb super-blocks) . y (nb block_q8_K) -> scalar; needs AVX2
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static float DotQ4K(byte* w, byte* y, int nb, bool fifth)
    {
        int bb = fifth ? 176 : 144, qo = fifth ? 48 : 16;
        float acc = 0;
        Vector256<byte> low4 = Vector256.Create((byte)0x0F);
        Vector256<byte> bit4 = Vector256.Create((byte)0x10);
        for (int b = 0; b < nb; b++)
        {
            byte* x = w + b * bb, yb = y + b * ActivationQ8K.BlockBytes;
            sbyte* q8 = (sbyte*)(yb + ActivationQ8K.QsOffset);
            float dy = *(float*)yb;
            // ggml's kmask shuffle: 8 scales (bytes of s0, s1) and 8 mins (bytes of m0, m1), 6 bits each
            uint u0 = *(uint*)(x + 4), u1 = *(uint*)(x + 8), u2 = *(uint*)(x + 12);
            uint s0 = u0 & 0x3f3f3f3f, s1 = (u2 & 0x0f0f0f0f) | (((u0 >> 6) & 0x03030303) << 4);
            uint m0 = u1 & 0x3f3f3f3f, m1 = ((u2 >> 4) & 0x0f0f0f0f) | (((u1 >> 6) & 0x03030303) << 4);
            ulong sc = ((ulong)s1 << 32) | s0;

            // minimum term: sum_j m_j * (bsum_2j + bsum_2j+1)
            Vector256<short> bs = Vector256.Load((short*)(yb + ActivationQ8K.SumsOffset));
            Vector128<short> pairs = Ssse3.HorizontalAdd(bs.GetLower(), bs.GetUpper());
            Vector128<short> mins = Sse41.ConvertToVector128Int16(Vector128.CreateScalar(((ulong)m1 << 32) | m0).AsByte());
            acc -= KQuant.F16(x + 2) * dy * Vector128.Sum(Sse2.MultiplyAddAdjacent(mins, pairs));

            Vector256<int> isum = default;
            Vector256<byte> qh = fifth ? Vector256.Load(x + 16) : default;
            for (int j = 0; j < 4; j++)
            {
                Vector256<byte> q = Vector256.Load(x + qo + 32 * j);
                Vector256<byte> lo = q & low4;
                Vector256<byte> hi = Avx2.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & low4;
                if (fifth)
                {
                    // bits 0 and 1 of each byte of qh (shifted down by 2 per step) are the fifth bits of lo and hi
                    lo |= Avx2.ShiftLeftLogical(qh.AsUInt16(), 4).AsByte() & bit4;
                    hi |= Avx2.ShiftLeftLogical(qh.AsUInt16(), 3).AsByte() & bit4;
                    qh = Avx2.ShiftRightLogical(qh.AsUInt16(), 2).AsByte();
                }
                Vector256<short> plo = Avx2.MultiplyAddAdjacent(lo, Vector256.Load(q8 + 64 * j));
                Vector256<short> phi = Avx2.MultiplyAddAdjacent(hi, Vector256.Load(q8 + 64 * j + 32));
                isum = MulAdd(isum, plo, Vector256.Create((short)(byte)(sc >> (16 * j))));
                isum = MulAdd(isum, phi, Vector256.Create((short)(byte)(sc >> (16 * j + 8))));
            }
            acc += KQuant.F16(x) * dy * Vector256.Sum(isum);
        }
        return acc;
    }

    // Q4_K (fifth: Q5_K) row w against four Q8_K token rows y0..y3 (duplicates allowed for padding) -> o[0..3]: the GEMM
    // tile, decoding each super-block once in registers for four tokens; needs AVX2
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static void TileQ4K(byte* w, int nb, bool fifth, byte* y0, byte* y1, byte* y2, byte* y3, float* o)
    {
        int bb = fifth ? 176 : 144, qo = fifth ? 48 : 16;
        float o0 = 0, o1 = 0, o2 = 0, o3 = 0;
        Vector256<byte> low4 = Vector256.Create((byte)0x0F);
        Vector256<byte> bit4 = Vector256.Create((byte)0x10);
        for (int b = 0; b < nb; b++)
        {
            byte* x = w + b * bb;
            long yo = (long)b * ActivationQ8K.BlockBytes;
            uint u0 = *(uint*)(x + 4), u1 = *(uint*)(x + 8), u2 = *(uint*)(x + 12);
            uint s0 = u0 & 0x3f3f3f3f, s1 = (u2 & 0x0f0f0f0f) | (((u0 >> 6) & 0x03030303) << 4);
            uint m0 = u1 & 0x3f3f3f3f, m1 = ((u2 >> 4) & 0x0f0f0f0f) | (((u1 >> 6) & 0x03030303) << 4);
            ulong sc = ((ulong)s1 << 32) | s0;
            Vector128<short> mins = Sse41.ConvertToVector128Int16(Vector128.CreateScalar(((ulong)m1 << 32) | m0).AsByte());
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            Vector256<byte> qh = fifth ? Vector256.Load(x + 16) : default;
            for (int j = 0; j < 4; j++)
            {
                Vector256<byte> q = Vector256.Load(x + qo + 32 * j);
                Vector256<byte> lo = q & low4;
                Vector256<byte> hi = Avx2.ShiftRightLogical(q.AsUInt16(), 4).AsByte() & low4;
                if (fifth)
                {
                    lo |= Avx2.ShiftLeftLogical(qh.AsUInt16(), 4).AsByte() & bit4;
                    hi |= Avx2.ShiftLeftLogical(qh.AsUInt16(), 3).AsByte() & bit4;
                    qh = Avx2.ShiftRightLogical(qh.AsUInt16(), 2).AsByte();
                }
                Vector256<short> sl = Vector256.Create((short)(byte)(sc >> (16 * j)));
                Vector256<short> sh = Vector256.Create((short)(byte)(sc >> (16 * j + 8)));
                long qoff = yo + ActivationQ8K.QsOffset + 64 * j;
                i0 = Chunk(i0, lo, hi, sl, sh, (sbyte*)(y0 + qoff));
                i1 = Chunk(i1, lo, hi, sl, sh, (sbyte*)(y1 + qoff));
                i2 = Chunk(i2, lo, hi, sl, sh, (sbyte*)(y2 + qoff));
                i3 = Chunk(i3, lo, hi, sl, sh, (sbyte*)(y3 + qoff));
            }
            float d = KQuant.F16(x), dmin = KQuant.F16(x + 2);
            o0 += Finish(i0, mins, y0 + yo, d, dmin);
            o1 += Finish(i1, mins, y1 + yo, d, dmin);
            o2 += Finish(i2, mins, y2 + yo, d, dmin);
            o3 += Finish(i3, mins, y3 + yo, d, dmin);
        }
        o[0] = o0; o[1] = o1; o[2] = o2; o[3] = o3;
    }

    // 64 values (lo codes against q8[0..31], hi against q8[32..63]) into one token's integer sum
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Chunk(Vector256<int> acc, Vector256<byte> lo, Vector256<byte> hi, Vector256<short> sl, Vector256<short> sh, sbyte* q8)
    {
        acc = MulAdd(acc, Avx2.MultiplyAddAdjacent(lo, Vector256.Load(q8)), sl);
        return MulAdd(acc, Avx2.MultiplyAddAdjacent(hi, Vector256.Load(q8 + 32)), sh);
    }

    // one token's super-block: d d_y isum - dmin d_y sum_j m_j (bsum_2j + bsum_2j+1)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(Vector256<int> isum, Vector128<short> mins, byte* yb, float d, float dmin)
    {
        Vector256<short> bs = Vector256.Load((short*)(yb + ActivationQ8K.SumsOffset));
        int msum = Vector128.Sum(Sse2.MultiplyAddAdjacent(mins, Ssse3.HorizontalAdd(bs.GetLower(), bs.GetUpper())));
        float dy = *(float*)yb;
        return d * dy * Vector256.Sum(isum) - dmin * dy * msum;
    }

    // Q6_K row w (nb super-blocks) . y (nb block_q8_K) -> scalar; needs AVX2
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static float DotQ6K(byte* w, byte* y, int nb)
    {
        float acc = 0;
        Vector256<byte> low4 = Vector256.Create((byte)0x0F);
        Vector256<byte> m30 = Vector256.Create((byte)0x30);
        for (int b = 0; b < nb; b++)
        {
            byte* x = w + b * 210, yb = y + b * ActivationQ8K.BlockBytes;
            sbyte* q8 = (sbyte*)(yb + ActivationQ8K.QsOffset);
            float dy = *(float*)yb;
            Vector128<byte> sc8 = Vector128.Load(x + 192);
            // zero point 32 leaves through the sums: isum starts at -32 * sum_s sc_s * bsum_s
            Vector256<int> corr = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(sc8.AsSByte()), Vector256.Load((short*)(yb + ActivationQ8K.SumsOffset)));
            Vector256<int> isum = Vector256<int>.Zero - Avx2.ShiftLeftLogical(corr, 5);
            for (int h = 0; h < 2; h++)
            {
                byte* ql = x + 64 * h;
                Vector256<byte> a = Vector256.Load(ql), c = Vector256.Load(ql + 32), hh = Vector256.Load(x + 128 + 32 * h);
                Vector256<ushort> h16 = hh.AsUInt16();
                Vector256<byte> u0 = (a & low4) | (Avx2.ShiftLeftLogical(h16, 4).AsByte() & m30);
                Vector256<byte> u1 = (c & low4) | (Avx2.ShiftLeftLogical(h16, 2).AsByte() & m30);
                Vector256<byte> u2 = (Avx2.ShiftRightLogical(a.AsUInt16(), 4).AsByte() & low4) | (hh & m30);
                Vector256<byte> u3 = (Avx2.ShiftRightLogical(c.AsUInt16(), 4).AsByte() & low4) | (Avx2.ShiftRightLogical(h16, 2).AsByte() & m30);
                int c0 = 4 * h;
                isum = MulAdd(isum, Avx2.MultiplyAddAdjacent(u0, Vector256.Load(q8 + 32 * c0)), Scales(sc8, c0));
                isum = MulAdd(isum, Avx2.MultiplyAddAdjacent(u1, Vector256.Load(q8 + 32 * (c0 + 1))), Scales(sc8, c0 + 1));
                isum = MulAdd(isum, Avx2.MultiplyAddAdjacent(u2, Vector256.Load(q8 + 32 * (c0 + 2))), Scales(sc8, c0 + 2));
                isum = MulAdd(isum, Avx2.MultiplyAddAdjacent(u3, Vector256.Load(q8 + 32 * (c0 + 3))), Scales(sc8, c0 + 3));
            }
            acc += KQuant.F16(x + 208) * dy * Vector256.Sum(isum);
        }
        return acc;
    }

    // IQ4_XS row w (nb super-blocks) . y (nb block_q8_K) -> scalar; needs AVX2
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static float DotIQ4XS(byte* w, byte* y, int nb)
    {
        Vector256<sbyte> table = Vector256.Create(Vector128.Create(
            (sbyte)-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113));
        float acc = 0;
        for (int b = 0; b < nb; b++)
        {
            byte* x = w + b * 136, yb = y + b * ActivationQ8K.BlockBytes;
            sbyte* q8 = (sbyte*)(yb + ActivationQ8K.QsOffset);
            int h = *(ushort*)(x + 2);
            Vector256<int> isum = default;
            for (int ib = 0; ib < 8; ib++)
            {
                Vector256<sbyte> k = Avx2.Shuffle(table, Block32.Nibbles(x + 8 + 16 * ib).AsSByte());
                Vector256<short> p = Avx2.MultiplyAddAdjacent(Avx2.Abs(k), Avx2.Sign(Vector256.Load(q8 + 32 * ib), k));
                int ls = ((x[4 + ib / 2] >> (4 * (ib & 1))) & 0xF) | (((h >> (2 * ib)) & 3) << 4);
                isum = MulAdd(isum, p, Vector256.Create((short)(ls - 32)));
            }
            acc += KQuant.F16(x) * *(float*)yb * Vector256.Sum(isum);
        }
        return acc;
    }

    // IQ4_XS row w against four Q8_K token rows y0..y3 (duplicates allowed for padding) -> o[0..3]: the GEMM tile; needs AVX2
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static void TileIQ4XS(byte* w, int nb, byte* y0, byte* y1, byte* y2, byte* y3, float* o)
    {
        Vector256<sbyte> table = Vector256.Create(Vector128.Create(
            (sbyte)-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113));
        float o0 = 0, o1 = 0, o2 = 0, o3 = 0;
        for (int b = 0; b < nb; b++)
        {
            byte* x = w + b * 136;
            long yo = (long)b * ActivationQ8K.BlockBytes;
            int h = *(ushort*)(x + 2);
            Vector256<int> i0 = default, i1 = default, i2 = default, i3 = default;
            for (int ib = 0; ib < 8; ib++)
            {
                Vector256<sbyte> k = Avx2.Shuffle(table, Block32.Nibbles(x + 8 + 16 * ib).AsSByte());
                Vector256<byte> ak = Avx2.Abs(k);
                Vector256<short> ls = Vector256.Create((short)((((x[4 + ib / 2] >> (4 * (ib & 1))) & 0xF) | (((h >> (2 * ib)) & 3) << 4)) - 32));
                long qoff = yo + ActivationQ8K.QsOffset + 32 * ib;
                i0 = MulAdd(i0, Avx2.MultiplyAddAdjacent(ak, Avx2.Sign(Vector256.Load((sbyte*)(y0 + qoff)), k)), ls);
                i1 = MulAdd(i1, Avx2.MultiplyAddAdjacent(ak, Avx2.Sign(Vector256.Load((sbyte*)(y1 + qoff)), k)), ls);
                i2 = MulAdd(i2, Avx2.MultiplyAddAdjacent(ak, Avx2.Sign(Vector256.Load((sbyte*)(y2 + qoff)), k)), ls);
                i3 = MulAdd(i3, Avx2.MultiplyAddAdjacent(ak, Avx2.Sign(Vector256.Load((sbyte*)(y3 + qoff)), k)), ls);
            }
            float d = KQuant.F16(x);
            o0 += d * *(float*)(y0 + yo) * Vector256.Sum(i0);
            o1 += d * *(float*)(y1 + yo) * Vector256.Sum(i1);
            o2 += d * *(float*)(y2 + yo) * Vector256.Sum(i2);
            o3 += d * *(float*)(y3 + yo) * Vector256.Sum(i3);
        }
        o[0] = o0; o[1] = o1; o[2] = o2; o[3] = o3;
    }

    // Q2_K row w (nb super-blocks) . y (nb block_q8_K) -> scalar; needs AVX2
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static float DotQ2K(byte* w, byte* y, int nb)
    {
        Vector256<byte> three = Vector256.Create((byte)3);
        float acc = 0;
        for (int b = 0; b < nb; b++)
        {
            byte* x = w + b * 84, yb = y + b * ActivationQ8K.BlockBytes;
            sbyte* q8 = (sbyte*)(yb + ActivationQ8K.QsOffset);
            float dy = *(float*)yb;
            Vector128<byte> packed = Vector128.Load(x);
            Vector128<byte> sc8 = packed & Vector128.Create((byte)0x0F);
            Vector256<short> mins = Avx2.ConvertToVector256Int16(Vector128.ShiftRightLogical(packed, 4));
            int msum = Vector256.Sum(Avx2.MultiplyAddAdjacent(mins, Vector256.Load((short*)(yb + ActivationQ8K.SumsOffset))));
            Vector256<int> isum = default;
            for (int j = 0; j < 2; j++)
            {
                Vector256<ushort> q = Vector256.Load(x + 16 + 32 * j).AsUInt16();
                for (int s = 0; s < 4; s++)
                {
                    int c = 4 * j + s;
                    Vector256<byte> u = q.AsByte() & three;
                    q = Avx2.ShiftRightLogical(q, 2); // bits 0..1 of each byte: the codes of the next chunk
                    isum = MulAdd(isum, Avx2.MultiplyAddAdjacent(u, Vector256.Load(q8 + 32 * c)), ScalesU(sc8, c));
                }
            }
            acc += dy * KQuant.F16(x + 80) * Vector256.Sum(isum) - dy * KQuant.F16(x + 82) * msum;
        }
        return acc;
    }

    // Q3_K row w (nb super-blocks) . y (nb block_q8_K) -> scalar; needs AVX2
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
    public static float DotQ3K(byte* w, byte* y, int nb)
    {
        Vector256<byte> three = Vector256.Create((byte)3);
        Vector256<byte> four = Vector256.Create((byte)4);
        float acc = 0;
        for (int b = 0; b < nb; b++)
        {
            byte* x = w + b * 110, yb = y + b * ActivationQ8K.BlockBytes;
            sbyte* q8 = (sbyte*)(yb + ActivationQ8K.QsOffset);
            // the 16 6-bit scales (ggml's kmask1/kmask2 shuffle), minus 32
            uint a0 = *(uint*)(x + 96), a1 = *(uint*)(x + 100), tmp = *(uint*)(x + 104);
            Vector128<byte> sc8 = Vector128.Create(
                (a0 & 0x0f0f0f0f) | ((tmp & 0x03030303) << 4),
                (a1 & 0x0f0f0f0f) | (((tmp >> 2) & 0x03030303) << 4),
                ((a0 >> 4) & 0x0f0f0f0f) | (((tmp >> 4) & 0x03030303) << 4),
                ((a1 >> 4) & 0x0f0f0f0f) | (((tmp >> 6) & 0x03030303) << 4)).AsByte() - Vector128.Create((byte)32);
            // codes are stored + 4 (low 2 bits | high bit << 2): the zero point leaves through the sums
            Vector256<int> corr = Avx2.MultiplyAddAdjacent(Avx2.ConvertToVector256Int16(sc8.AsSByte()), Vector256.Load((short*)(yb + ActivationQ8K.SumsOffset)));
            Vector256<int> isum = Vector256<int>.Zero - Avx2.ShiftLeftLogical(corr, 2);
            Vector256<ushort> hm = Vector256.Load(x).AsUInt16();
            for (int j = 0; j < 2; j++)
            {
                Vector256<ushort> q = Vector256.Load(x + 32 + 32 * j).AsUInt16();
                for (int s = 0; s < 4; s++)
                {
                    int c = 4 * j + s;
                    Vector256<byte> u = (q.AsByte() & three) | (Avx2.ShiftLeftLogical(hm, 2).AsByte() & four);
                    q = Avx2.ShiftRightLogical(q, 2);   // bits 0..1 of each byte: the low codes of the next chunk
                    hm = Avx2.ShiftRightLogical(hm, 1); // bit 0 of each byte: the high bit of the next chunk
                    isum = MulAdd(isum, Avx2.MultiplyAddAdjacent(u, Vector256.Load(q8 + 32 * c)), Scales(sc8, c));
                }
            }
            acc += KQuant.F16(x + 108) * *(float*)yb * Vector256.Sum(isum);
        }
        return acc;
    }

    // the unsigned 8-bit scales of 32-value chunk c (sub-blocks 2c, 2c+1) as 16 int16: [sc_2c x 8 | sc_2c+1 x 8]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> ScalesU(Vector128<byte> sc8, int c)
    {
        Vector128<byte> idx = Vector128.Create(0x0101010101010101UL * (ulong)(2 * c), 0x0101010101010101UL * (ulong)(2 * c + 1)).AsByte();
        return Avx2.ConvertToVector256Int16(Ssse3.Shuffle(sc8, idx));
    }

    // the int8 scales of 32-value chunk c (sub-blocks 2c, 2c+1) as 16 int16: [sc_2c x 8 | sc_2c+1 x 8]
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<short> Scales(Vector128<byte> sc8, int c)
    {
        Vector128<byte> idx = Vector128.Create(0x0101010101010101UL * (ulong)(2 * c), 0x0101010101010101UL * (ulong)(2 * c + 1)).AsByte();
        return Avx2.ConvertToVector256Int16(Ssse3.Shuffle(sc8, idx).AsSByte());
    }
}
