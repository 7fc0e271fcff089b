// Block decoding of Q4_1, Q5_0, Q5_1, Q8_1, IQ4_NL (32 elements) and Q2_K … Q6_K, Q8_K, IQ4_XS (256 elements),
// bit-exact with ggml-quants.c dequantize_row_q4_1 … dequantize_row_iq4_xs (llama.cpp, ggml-quants.c as of commit
// 01243c587feceaa5d6a6c2305535ef2f549c48b8; the layouts have not changed since the K-quants were introduced).
// "Bit-exact" means the same float operations in the same order: ggml's libggml-base is built without FMA
// contraction, and .NET never contracts, so e.g. Q4_K's d1 * q - m1 is a rounded product, then a rounded difference.
// Q8_1 has no dequantize_row in ggml (it is only an activation type); here value = q * d.
namespace Furnace.Tensors;

public static unsafe partial class Dequantize
{
    // y (n,) = n elements of block type t at src; n a multiple of the block size
    private static void Blocks(float* y, byte* src, int n, DType t)
    {
        int nb = n / DTypes.BlockSize(t), bytes = DTypes.BlockBytes(t);
        for (int b = 0; b < nb; b++)
        {
            byte* blk = src + (long)b * bytes;
            switch (t)
            {
                case DType.Q4_1: Q4_1((BlockQ4_1*)blk, y + b * 32); break;
                case DType.Q5_0: Q5_0((BlockQ5_0*)blk, y + b * 32); break;
                case DType.Q5_1: Q5_1((BlockQ5_1*)blk, y + b * 32); break;
                case DType.Q8_1: Q8_1((BlockQ8_1*)blk, y + b * 32); break;
                case DType.IQ4_NL: IQ4_NL((BlockIQ4_NL*)blk, y + b * 32); break;
                case DType.Q2_K: Q2_K((BlockQ2_K*)blk, y + b * 256); break;
                case DType.Q3_K: Q3_K((BlockQ3_K*)blk, y + b * 256); break;
                case DType.Q4_K: Q4_K((BlockQ4_K*)blk, y + b * 256); break;
                case DType.Q5_K: Q5_K((BlockQ5_K*)blk, y + b * 256); break;
                case DType.Q6_K: Q6_K((BlockQ6_K*)blk, y + b * 256); break;
                case DType.Q8_K: Q8_K((BlockQ8_K*)blk, y + b * 256); break;
                case DType.IQ4_XS: IQ4_XS((BlockIQ4_XS*)blk, y + b * 256); break;
                default: throw new NotSupportedException($"dtype {t} is not a block type");
            }
        }
    }

    /// <summary>Scale and min (both 0..63) of sub-block j (0..7) of a Q4_K/Q5_K block's 12 packed bytes (ggml get_scale_min_k4).</summary>
    /// <remarks>Bytes 0..3: scales 0..3 (low 6 bits), bytes 4..7: mins 0..3 (low 6 bits); bytes 8..11: scale 4+i in the low
    /// nibble and min 4+i in the high nibble, their top 2 bits in the top 2 bits of bytes i (scale) and 4+i (min).</remarks>
    public static void ScaleMinK4(int j, ReadOnlySpan<byte> q, out int scale, out int min)
    {
        if (j < 4)
        {
            scale = q[j] & 63;
            min = q[j + 4] & 63;
        }
        else
        {
            scale = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
            min = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
        }
    }

    /// <summary>6-bit scale (0..63, before the -32) of sub-block j (0..15) of a Q3_K block's 12 packed bytes.</summary>
    public static int ScaleQ3K(int j, ReadOnlySpan<byte> s)
    {
        int low = j < 8 ? s[j] & 0xF : s[j - 8] >> 4;
        int high = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
        return low | (high << 4);
    }

    private static void Q4_1(BlockQ4_1* b, float* y)
    {
        float d = (float)b->D, m = (float)b->M;
        for (int j = 0; j < 16; j++)
        {
            y[j] = (b->Qs[j] & 0xF) * d + m;
            y[j + 16] = (b->Qs[j] >> 4) * d + m;
        }
    }

    private static void Q5_0(BlockQ5_0* b, float* y)
    {
        float d = (float)b->D;
        uint qh = *(uint*)b->Qh;
        for (int j = 0; j < 16; j++)
        {
            int h0 = (int)((qh >> j) << 4) & 0x10, h1 = (int)(qh >> (j + 12)) & 0x10;
            y[j] = (((b->Qs[j] & 0xF) | h0) - 16) * d;
            y[j + 16] = (((b->Qs[j] >> 4) | h1) - 16) * d;
        }
    }

    private static void Q5_1(BlockQ5_1* b, float* y)
    {
        float d = (float)b->D, m = (float)b->M;
        uint qh = *(uint*)b->Qh;
        for (int j = 0; j < 16; j++)
        {
            int h0 = (int)((qh >> j) << 4) & 0x10, h1 = (int)(qh >> (j + 12)) & 0x10;
            y[j] = ((b->Qs[j] & 0xF) | h0) * d + m;
            y[j + 16] = ((b->Qs[j] >> 4) | h1) * d + m;
        }
    }

    private static void Q8_1(BlockQ8_1* b, float* y)
    {
        float d = (float)b->D;
        for (int j = 0; j < 32; j++) y[j] = b->Qs[j] * d;
    }

    private static void IQ4_NL(BlockIQ4_NL* b, float* y)
    {
        float d = (float)b->D;
        ReadOnlySpan<sbyte> kv = Iq4Nl.Values;
        for (int j = 0; j < 16; j++)
        {
            y[j] = d * kv[b->Qs[j] & 0xF];
            y[j + 16] = d * kv[b->Qs[j] >> 4];
        }
    }

    private static void Q2_K(BlockQ2_K* b, float* y)
    {
        float d = (float)b->D, dmin = (float)b->Dmin;
        for (int half = 0; half < 2; half++)
        {
            byte* q = b->Qs + 32 * half;
            for (int s = 0; s < 4; s++) // shift 2s: elements 128 half + 32 s .. + 31, two sub-blocks of 16
            {
                for (int k = 0; k < 2; k++)
                {
                    int sc = b->Scales[8 * half + 2 * s + k];
                    float dl = d * (sc & 0xF), ml = dmin * (sc >> 4);
                    float* yo = y + 128 * half + 32 * s + 16 * k;
                    for (int l = 0; l < 16; l++) yo[l] = dl * ((q[16 * k + l] >> (2 * s)) & 3) - ml;
                }
            }
        }
    }

    private static void Q3_K(BlockQ3_K* b, float* y)
    {
        float dAll = (float)b->D;
        for (int half = 0; half < 2; half++)
        {
            byte* q = b->Qs + 32 * half;
            for (int s = 0; s < 4; s++)
            {
                int bit = 1 << (4 * half + s); // hmask bit of elements 32 (4 half + s) + l
                for (int k = 0; k < 2; k++)
                {
                    float dl = dAll * (ScaleQ3K(8 * half + 2 * s + k, new ReadOnlySpan<byte>(b->Scales, 12)) - 32);
                    float* yo = y + 128 * half + 32 * s + 16 * k;
                    for (int l = 0; l < 16; l++)
                    {
                        int i = 16 * k + l;
                        yo[l] = dl * (((q[i] >> (2 * s)) & 3) - ((b->Hmask[i] & bit) != 0 ? 0 : 4));
                    }
                }
            }
        }
    }

    private static void Q4_K(BlockQ4_K* b, float* y)
    {
        float d = (float)b->D, dmin = (float)b->Dmin;
        for (int c = 0; c < 4; c++)
        {
            ScaleMinK4(2 * c, new ReadOnlySpan<byte>(b->Scales, 12), out int sc1, out int m1i);
            ScaleMinK4(2 * c + 1, new ReadOnlySpan<byte>(b->Scales, 12), out int sc2, out int m2i);
            float d1 = d * sc1, m1 = dmin * m1i, d2 = d * sc2, m2 = dmin * m2i;
            byte* q = b->Qs + 32 * c;
            for (int l = 0; l < 32; l++) y[64 * c + l] = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; l++) y[64 * c + 32 + l] = d2 * (q[l] >> 4) - m2;
        }
    }

    private static void Q5_K(BlockQ5_K* b, float* y)
    {
        float d = (float)b->D, dmin = (float)b->Dmin;
        for (int c = 0; c < 4; c++)
        {
            ScaleMinK4(2 * c, new ReadOnlySpan<byte>(b->Scales, 12), out int sc1, out int m1i);
            ScaleMinK4(2 * c + 1, new ReadOnlySpan<byte>(b->Scales, 12), out int sc2, out int m2i);
            float d1 = d * sc1, m1 = dmin * m1i, d2 = d * sc2, m2 = dmin * m2i;
            byte* q = b->Qs + 32 * c;
            int u1 = 1 << (2 * c), u2 = 2 << (2 * c);
            for (int l = 0; l < 32; l++) y[64 * c + l] = d1 * ((q[l] & 0xF) + ((b->Qh[l] & u1) != 0 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; l++) y[64 * c + 32 + l] = d2 * ((q[l] >> 4) + ((b->Qh[l] & u2) != 0 ? 16 : 0)) - m2;
        }
    }

    private static void Q6_K(BlockQ6_K* b, float* y)
    {
        float d = (float)b->D;
        for (int half = 0; half < 2; half++)
        {
            byte* ql = b->Ql + 64 * half;
            byte* qh = b->Qh + 32 * half;
            sbyte* sc = b->Scales + 8 * half;
            float* yo = y + 128 * half;
            for (int l = 0; l < 32; l++)
            {
                int s = l / 16;
                int q1 = ((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                int q2 = ((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                int q3 = ((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                int q4 = ((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                yo[l] = d * sc[s] * q1;
                yo[l + 32] = d * sc[s + 2] * q2;
                yo[l + 64] = d * sc[s + 4] * q3;
                yo[l + 96] = d * sc[s + 6] * q4;
            }
        }
    }

    private static void Q8_K(BlockQ8_K* b, float* y)
    {
        for (int j = 0; j < 256; j++) y[j] = b->D * b->Qs[j];
    }

    private static void IQ4_XS(BlockIQ4_XS* b, float* y)
    {
        float d = (float)b->D;
        ReadOnlySpan<sbyte> kv = Iq4Nl.Values;
        for (int ib = 0; ib < 8; ib++)
        {
            int ls = ((b->ScalesL[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((b->ScalesH >> (2 * ib)) & 3) << 4);
            float dl = d * (ls - 32);
            byte* qs = b->Qs + 16 * ib;
            for (int j = 0; j < 16; j++)
            {
                y[32 * ib + j] = dl * kv[qs[j] & 0xF];
                y[32 * ib + j + 16] = dl * kv[qs[j] >> 4];
            }
        }
    }
}
