// The six Q8_K-activated weight formats for MatMulKQuant: super-block unpacking (SIMD) and the scalar twin of each
// dot product. Byte layouts follow ggml-common.h (block_q2_K … block_q6_K, block_iq4_xs); the scalar twins follow
// ggml-cpu quants.c ggml_vec_dot_<type>_q8_K_generic, with the integer sums kept exact per super-block.
// Written from ggml's published formulas (no llama.cpp source copied); checked against the ggml-cpu shipped in
// LLamaSharp.Backend.Cpu 0.30.0 (tests/Furnace.Oracle.Tests/QuantKernelOracleTests.cs).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Furnace.Tensors;

// block_q2_K (84 bytes): scales[16] (low nibble scale, high nibble min) | qs[64] 2-bit codes | f16 d | f16 dmin;
// value = d * sc * q - dmin * m
internal readonly unsafe struct Q2_KBlock : IKQuantBlock
{
    public static int BlockBytes => 84;

    public static int Offset => 0;

    public static bool HasMin => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Unpack(byte* blk, byte* u, short* sc, short* mn, out float dmin)
    {
        var three = Vector256.Create((byte)3);
        for (int j = 0; j < 2; j++)
        {
            Vector256<byte> q = Vector256.Load(blk + 16 + 32 * j);
            (q & three).Store(u + 128 * j);
            (Vector256.ShiftRightLogical(q, 2) & three).Store(u + 128 * j + 32);
            (Vector256.ShiftRightLogical(q, 4) & three).Store(u + 128 * j + 64);
            Vector256.ShiftRightLogical(q, 6).Store(u + 128 * j + 96);
        }
        for (int s = 0; s < 16; s++)
        {
            sc[s] = (short)(blk[s] & 0xF);
            mn[s] = (short)(blk[s] >> 4);
        }
        dmin = KQuant.F16(blk + 82);
        return KQuant.F16(blk + 80);
    }

    public static float DotScalar(byte* w, byte* y, int nb)
    {
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            byte* x = w + i * 84, yb = y + i * ActivationQ8K.BlockBytes;
            sbyte* q8 = KQuant.Qs(yb);
            short* bsums = KQuant.Sums(yb);
            byte* sc = x, q2 = x + 16;
            int summs = 0;
            for (int j = 0; j < 16; j++) summs += bsums[j] * (sc[j] >> 4);
            float dy = *(float*)yb;
            float dall = dy * KQuant.F16(x + 80), dmin = dy * KQuant.F16(x + 82);
            int isum = 0, k = 0;
            for (int half = 0; half < 2; half++)
            {
                for (int shift = 0; shift < 8; shift += 2)
                {
                    for (int part = 0; part < 2; part++)
                    {
                        int d = sc[k++] & 0xF, isuml = 0;
                        for (int l = 16 * part; l < 16 * part + 16; l++) isuml += q8[l] * ((q2[l] >> shift) & 3);
                        isum += d * isuml;
                    }
                    q8 += 32;
                }
                q2 += 32;
            }
            sumf += dall * isum - dmin * summs;
        }
        return sumf;
    }
}

// block_q3_K (110 bytes): hmask[32] | qs[64] 2-bit low codes | scales[12] (16 6-bit, biased by 32) | f16 d;
// value = d * (sc - 32) * (low + 4 * hbit - 4)
internal readonly unsafe struct Q3_KBlock : IKQuantBlock
{
    public static int BlockBytes => 110;

    public static int Offset => 4;

    public static bool HasMin => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Unpack(byte* blk, byte* u, short* sc, short* mn, out float dmin)
    {
        var three = Vector256.Create((byte)3);
        var one = Vector256.Create((byte)1);
        Vector256<byte> hm = Vector256.Load(blk);
        for (int j = 0; j < 2; j++)
        {
            Vector256<byte> q = Vector256.Load(blk + 32 + 32 * j);
            for (int s = 0; s < 4; s++)
            {
                Vector256<byte> h = Vector256.ShiftRightLogical(hm, 4 * j + s) & one;
                ((Vector256.ShiftRightLogical(q, 2 * s) & three) | Vector256.ShiftLeft(h, 2)).Store(u + 128 * j + 32 * s);
            }
        }
        Scales(blk + 96, sc);
        dmin = 0;
        return KQuant.F16(blk + 108);
    }

    // the 16 signed scales (6-bit - 32) from the 12 packed bytes: low nibbles in bytes 0..7, high 2 bits in 8..11
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scales(byte* p, short* sc)
    {
        for (int j = 0; j < 16; j++)
        {
            int low = j < 8 ? p[j] & 0xF : p[j - 8] >> 4;
            int high = (p[8 + (j & 3)] >> (2 * (j >> 2))) & 3;
            sc[j] = (short)((low | (high << 4)) - 32);
        }
    }

    public static float DotScalar(byte* w, byte* y, int nb)
    {
        sbyte* a8 = stackalloc sbyte[256];
        short* sc = stackalloc short[16];
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            byte* x = w + i * 110, yb = y + i * ActivationQ8K.BlockBytes;
            byte* hm = x, q3 = x + 32;
            sbyte* a = a8;
            int m = 1;
            for (int j = 0; j < 2; j++)
            {
                for (int shift = 0; shift < 8; shift += 2)
                {
                    for (int l = 0; l < 32; l++) a[l] = (sbyte)(((q3[l] >> shift) & 3) - ((hm[l] & m) != 0 ? 0 : 4));
                    a += 32;
                    m <<= 1;
                }
                q3 += 32;
            }
            Scales(x + 96, sc);
            sbyte* q8 = KQuant.Qs(yb);
            int isum = 0;
            for (int s = 0; s < 16; s++)
            {
                int d = 0;
                for (int l = 0; l < 16; l++) d += q8[16 * s + l] * a8[16 * s + l];
                isum += sc[s] * d;
            }
            sumf += KQuant.F16(x + 108) * *(float*)yb * isum;
        }
        return sumf;
    }
}

// block_q4_K (144 bytes): f16 d | f16 dmin | scales[12] (8 6-bit scales and mins) | qs[128], 64-value groups with the
// low nibbles first; value = d * sc * q - dmin * m per 32 values
internal readonly unsafe struct Q4_KBlock : IKQuantBlock
{
    public static int BlockBytes => 144;

    public static int Offset => 0;

    public static bool HasMin => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Unpack(byte* blk, byte* u, short* sc, short* mn, out float dmin)
    {
        for (int j = 0; j < 4; j++)
        {
            Vector256<byte> q = Vector256.Load(blk + 16 + 32 * j);
            (q & KQuant.Low4).Store(u + 64 * j);
            Vector256.ShiftRightLogical(q, 4).Store(u + 64 * j + 32);
        }
        ScalesMins(blk + 4, sc, mn);
        dmin = KQuant.F16(blk + 2);
        return KQuant.F16(blk);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void ScalesMins(byte* p, short* sc, short* mn)
    {
        for (int j = 0; j < 8; j++)
        {
            KQuant.ScaleMinK4(j, p, out int d, out int m);
            sc[2 * j] = sc[2 * j + 1] = (short)d;
            mn[2 * j] = mn[2 * j + 1] = (short)m;
        }
    }

    public static float DotScalar(byte* w, byte* y, int nb) => DotScalarK4(w, y, nb, fifth: false);

    // Q4_K and Q5_K (fifth: the qh bit plane adds 16)
    public static float DotScalarK4(byte* w, byte* y, int nb, bool fifth)
    {
        int bb = fifth ? 176 : 144;
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            byte* x = w + i * bb, yb = y + i * ActivationQ8K.BlockBytes;
            byte* qh = x + 16, q4 = x + (fifth ? 48 : 16);
            sbyte* q8 = KQuant.Qs(yb);
            short* bsums = KQuant.Sums(yb);
            int isum = 0, summ = 0;
            for (int j = 0; j < 8; j++)
            {
                KQuant.ScaleMinK4(j, x + 4, out int d, out int m);
                summ += m * (bsums[2 * j] + bsums[2 * j + 1]);
                int dot = 0;
                for (int l = 0; l < 32; l++)
                {
                    int v = (j & 1) == 0 ? q4[32 * (j / 2) + l] & 0xF : q4[32 * (j / 2) + l] >> 4;
                    if (fifth && (qh[l] & (1 << j)) != 0) v += 16;
                    dot += v * q8[32 * j + l];
                }
                isum += d * dot;
            }
            float dy = *(float*)yb;
            sumf += KQuant.F16(x) * dy * isum - KQuant.F16(x + 2) * dy * summ;
        }
        return sumf;
    }
}

// block_q5_K (176 bytes): f16 d | f16 dmin | scales[12] | qh[32] (bit j of byte l: value 32j + l) | qs[128] as Q4_K
internal readonly unsafe struct Q5_KBlock : IKQuantBlock
{
    public static int BlockBytes => 176;

    public static int Offset => 0;

    public static bool HasMin => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Unpack(byte* blk, byte* u, short* sc, short* mn, out float dmin)
    {
        var one = Vector256.Create((byte)1);
        Vector256<byte> h = Vector256.Load(blk + 16);
        for (int j = 0; j < 4; j++)
        {
            Vector256<byte> q = Vector256.Load(blk + 48 + 32 * j);
            Vector256<byte> h0 = Vector256.ShiftLeft(Vector256.ShiftRightLogical(h, 2 * j) & one, 4);
            Vector256<byte> h1 = Vector256.ShiftLeft(Vector256.ShiftRightLogical(h, 2 * j + 1) & one, 4);
            ((q & KQuant.Low4) | h0).Store(u + 64 * j);
            (Vector256.ShiftRightLogical(q, 4) | h1).Store(u + 64 * j + 32);
        }
        Q4_KBlock.ScalesMins(blk + 4, sc, mn);
        dmin = KQuant.F16(blk + 2);
        return KQuant.F16(blk);
    }

    public static float DotScalar(byte* w, byte* y, int nb) => Q4_KBlock.DotScalarK4(w, y, nb, fifth: true);
}

// block_q6_K (210 bytes): ql[128] low nibbles | qh[64] high 2 bits | int8 scales[16] | f16 d; value = d * sc * (q - 32)
internal readonly unsafe struct Q6_KBlock : IKQuantBlock
{
    public static int BlockBytes => 210;

    public static int Offset => 32;

    public static bool HasMin => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Unpack(byte* blk, byte* u, short* sc, short* mn, out float dmin)
    {
        var three = Vector256.Create((byte)3);
        for (int h = 0; h < 2; h++)
        {
            byte* ql = blk + 64 * h, o = u + 128 * h;
            Vector256<byte> a = Vector256.Load(ql), b = Vector256.Load(ql + 32), hh = Vector256.Load(blk + 128 + 32 * h);
            ((a & KQuant.Low4) | Vector256.ShiftLeft(hh & three, 4)).Store(o);
            ((b & KQuant.Low4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hh, 2) & three, 4)).Store(o + 32);
            (Vector256.ShiftRightLogical(a, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hh, 4) & three, 4)).Store(o + 64);
            (Vector256.ShiftRightLogical(b, 4) | Vector256.ShiftLeft(Vector256.ShiftRightLogical(hh, 6), 4)).Store(o + 96);
        }
        for (int s = 0; s < 16; s++) sc[s] = ((sbyte*)(blk + 192))[s];
        dmin = 0;
        return KQuant.F16(blk + 208);
    }

    public static float DotScalar(byte* w, byte* y, int nb)
    {
        sbyte* a8 = stackalloc sbyte[256];
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            byte* x = w + i * 210, yb = y + i * ActivationQ8K.BlockBytes;
            byte* q4 = x, qh = x + 128;
            sbyte* a = a8;
            for (int j = 0; j < 256; j += 128)
            {
                for (int l = 0; l < 32; l++)
                {
                    a[l] = (sbyte)(((q4[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
                    a[l + 32] = (sbyte)(((q4[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                    a[l + 64] = (sbyte)(((q4[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                    a[l + 96] = (sbyte)(((q4[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
                }
                a += 128;
                q4 += 64;
                qh += 32;
            }
            sbyte* q8 = KQuant.Qs(yb), scales = (sbyte*)(x + 192);
            int isum = 0;
            for (int s = 0; s < 16; s++)
            {
                int d = 0;
                for (int l = 0; l < 16; l++) d += q8[16 * s + l] * a8[16 * s + l];
                isum += scales[s] * d;
            }
            sumf += KQuant.F16(x + 208) * *(float*)yb * isum;
        }
        return sumf;
    }
}

// The fixed non-linear IQ4 table (Iq4Nl, ggml-common.h kvalues_iq4nl) shifted by +128 to unsigned codes.
internal static class Iq4Table
{
    public static ReadOnlySpan<sbyte> Values => Iq4Nl.Values;

    public static readonly Vector128<byte> Unsigned = Vector128.Create(
        (byte)1, 24, 45, 63, 79, 93, 106, 118, 129, 141, 153, 166, 181, 197, 217, 241);

    // 16 bytes of index pairs -> the 32 unsigned codes of a 32-value block (low nibbles, then high)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Expand(byte* qs, byte* u)
    {
        if (Ssse3.IsSupported)
        {
            Vector128<byte> q = Vector128.Load(qs);
            Ssse3.Shuffle(Unsigned, q & Vector128.Create((byte)0x0F)).Store(u);
            Ssse3.Shuffle(Unsigned, Vector128.ShiftRightLogical(q, 4)).Store(u + 16);
            return;
        }
        for (int j = 0; j < 16; j++)
        {
            u[j] = (byte)(Values[qs[j] & 0xF] + 128);
            u[j + 16] = (byte)(Values[qs[j] >> 4] + 128);
        }
    }
}

// block_iq4_xs (136 bytes): f16 d | u16 scales_h | scales_l[4] | qs[128]; per 32 values a 6-bit scale ls (low 4 bits in
// scales_l, high 2 in scales_h), value = d * (ls - 32) * kvalues_iq4nl[index]
internal readonly unsafe struct IQ4_XSBlock : IKQuantBlock
{
    public static int BlockBytes => 136;

    public static int Offset => 128;

    public static bool HasMin => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Unpack(byte* blk, byte* u, short* sc, short* mn, out float dmin)
    {
        int h = *(ushort*)(blk + 2);
        for (int ib = 0; ib < 8; ib++)
        {
            Iq4Table.Expand(blk + 8 + 16 * ib, u + 32 * ib);
            sc[2 * ib] = sc[2 * ib + 1] = (short)(Scale(blk[4 + ib / 2], h, ib) - 32);
        }
        dmin = 0;
        return KQuant.F16(blk);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Scale(int low, int h, int ib) => ((low >> (4 * (ib & 1))) & 0xF) | (((h >> (2 * ib)) & 3) << 4);

    public static float DotScalar(byte* w, byte* y, int nb)
    {
        ReadOnlySpan<sbyte> kv = Iq4Table.Values;
        float sumf = 0;
        for (int i = 0; i < nb; i++)
        {
            byte* x = w + i * 136, yb = y + i * ActivationQ8K.BlockBytes;
            float d4d8 = KQuant.F16(x) * *(float*)yb;
            int h = *(ushort*)(x + 2);
            byte* qs = x + 8;
            sbyte* q8 = KQuant.Qs(yb);
            for (int ib = 0; ib < 8; ib++)
            {
                int ls = Scale(x[4 + ib / 2], h, ib);
                int sumi = 0;
                for (int j = 0; j < 16; j++) sumi += q8[j] * kv[qs[j] & 0xF] + q8[j + 16] * kv[qs[j] >> 4];
                sumf += d4d8 * (ls - 32) * sumi;
                qs += 16;
                q8 += 32;
            }
        }
        return sumf;
    }
}
