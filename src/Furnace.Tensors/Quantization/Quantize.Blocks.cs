// Encoders of Q4_1, Q5_0, Q5_1, IQ4_NL (32 elements), Q2_K … Q6_K, IQ4_XS (256) and Q4_0 with an importance vector,
// byte-identical with ggml-quants.c (llama.cpp commit 01243c587feceaa5d6a6c2305535ef2f549c48b8):
//   no importance:  quantize_row_<t>_ref, which is also what quantize_<t>(…, quant_weights = NULL) runs, except
//                   IQ4_NL (quantize_iq4_nl searches 15 scales, its _ref takes one) — see Row/RowRef
//   importance:     quantize_row_<t>_impl (32-blocks: weights qw * sqrt(sigma2 + x^2), sigma2 = mean x^2 over the
//                   whole row; K-quants: per super-block, sigma2 = 2 * mean x^2 (Q2_K: 1 *), then make_qkx3_quants /
//                   make_qx_quants per sub-block and make_qp_quants / make_qx_quants for the super-block scales)
// The searches themselves are in QuantSearch.cs. Scratch is stackalloc'ed per block (one call per block, so the
// stack is released between blocks); no heap allocation per row or block.
namespace Furnace.Tensors;

public static unsafe partial class Quantize
{
    private static void Blocks(byte* d, ReadOnlySpan<float> x, DType t, ReadOnlySpan<float> qw, bool reference)
    {
        int bs = DTypes.BlockSize(t), bb = DTypes.BlockBytes(t), nb = x.Length / bs;
        // the 32-block importance quantizers weight by the mean square of the whole row
        float sigma2 = 0;
        if (!qw.IsEmpty && bs == 32 && t != DType.IQ4_NL)
        {
            float sumX2 = 0;
            for (int j = 0; j < x.Length; j++) sumX2 += x[j] * x[j];
            sigma2 = sumX2 / x.Length;
        }
        for (int b = 0; b < nb; b++)
        {
            byte* blk = d + (long)b * bb;
            ReadOnlySpan<float> xb = x.Slice(b * bs, bs);
            ReadOnlySpan<float> wb = qw.IsEmpty ? default : qw.Slice(b * bs, bs);
            switch (t)
            {
                case DType.Q4_0: Q4_0Weighted((BlockQ4_0*)blk, xb, wb, sigma2); break;
                case DType.Q4_1 when wb.IsEmpty: Q4_1Ref((BlockQ4_1*)blk, xb); break;
                case DType.Q4_1: Q4_1Weighted((BlockQ4_1*)blk, xb, wb, sigma2); break;
                case DType.Q5_0 when wb.IsEmpty: Q5_0Ref((BlockQ5_0*)blk, xb); break;
                case DType.Q5_0: Q5_0Weighted((BlockQ5_0*)blk, xb, wb, sigma2); break;
                case DType.Q5_1 when wb.IsEmpty: Q5_1Ref((BlockQ5_1*)blk, xb); break;
                case DType.Q5_1: Q5_1Weighted((BlockQ5_1*)blk, xb, wb, sigma2); break;
                case DType.IQ4_NL: IQ4_NLBlock((BlockIQ4_NL*)blk, xb, wb, reference ? -1 : 7); break;
                case DType.IQ4_XS: IQ4_XSBlock((BlockIQ4_XS*)blk, xb, wb); break;
                case DType.Q2_K when wb.IsEmpty: Q2_KRef((BlockQ2_K*)blk, xb); break;
                case DType.Q2_K: Q2_KWeighted((BlockQ2_K*)blk, xb, wb); break;
                case DType.Q3_K when wb.IsEmpty: Q3_KRef((BlockQ3_K*)blk, xb); break;
                case DType.Q3_K: Q3_KWeighted((BlockQ3_K*)blk, xb, wb); break;
                case DType.Q4_K or DType.Q5_K when wb.IsEmpty: Q45_KRef(blk, xb, t == DType.Q5_K); break;
                case DType.Q4_K or DType.Q5_K: Q45_KWeighted(blk, xb, wb, t == DType.Q5_K); break;
                case DType.Q6_K: Q6_KBlock((BlockQ6_K*)blk, xb, wb); break;
                default: throw new NotSupportedException($"dtype {t} cannot be quantized");
            }
        }
    }

    // ---- 32-blocks ----------------------------------------------------------------------------------------------

    // weight (32,) = qw * sqrt(sigma2 + x^2)
    private static void ImportanceWeights(Span<float> weight, ReadOnlySpan<float> x, ReadOnlySpan<float> qw, float sigma2)
    {
        for (int j = 0; j < x.Length; j++) weight[j] = qw[j] * MathF.Sqrt(sigma2 + x[j] * x[j]);
    }

    // quantize_row_q4_0_impl: levels 0..15 of (q - 8) * d from make_qx_quants(nmax 8)
    private static void Q4_0Weighted(BlockQ4_0* blk, ReadOnlySpan<float> x, ReadOnlySpan<float> qw, float sigma2)
    {
        Span<float> weight = stackalloc float[32];
        Span<sbyte> L = stackalloc sbyte[32];
        ImportanceWeights(weight, x, qw, sigma2);
        blk->D = (Half)QuantSearch.MakeQx(32, 8, x, L, weight);
        for (int j = 0; j < 16; j++) blk->Qs[j] = (byte)((byte)L[j] | ((byte)L[j + 16] << 4));
    }

    // quantize_row_q4_1_ref: d = (max - min)/15, m = min, q = min(15, (int)((x - min)/d + 0.5))
    private static void Q4_1Ref(BlockQ4_1* blk, ReadOnlySpan<float> x)
    {
        MinMax(x, out float min, out float max);
        float d = (max - min) / 15;
        float id = d != 0 ? 1f / d : 0f;
        blk->D = (Half)d;
        blk->M = (Half)min;
        for (int j = 0; j < 16; j++)
        {
            int q0 = Math.Min(15, (int)((x[j] - min) * id + 0.5f));
            int q1 = Math.Min(15, (int)((x[j + 16] - min) * id + 0.5f));
            blk->Qs[j] = (byte)(q0 | (q1 << 4));
        }
    }

    // quantize_row_q4_1_impl: (scale, min) from make_qkx3_quants(nmax 15)
    private static void Q4_1Weighted(BlockQ4_1* blk, ReadOnlySpan<float> x, ReadOnlySpan<float> qw, float sigma2)
    {
        Span<float> weight = stackalloc float[32];
        Span<byte> L = stackalloc byte[32], laux = stackalloc byte[32];
        ImportanceWeights(weight, x, qw, sigma2);
        float d = QuantSearch.MakeQkx(true, 32, 15, x, weight, L, out float min, laux, -0.9f, 0.05f, 36, false);
        blk->D = (Half)d;
        blk->M = (Half)(-min);
        for (int j = 0; j < 16; j++) blk->Qs[j] = (byte)(L[j] | (L[j + 16] << 4));
    }

    // quantize_row_q5_0_ref: d = max/-16 (max = signed value of largest magnitude), q = min(31, (int)(x/d + 16.5))
    private static void Q5_0Ref(BlockQ5_0* blk, ReadOnlySpan<float> x)
    {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++)
        {
            if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
        }
        float d = max / -16;
        float id = d != 0 ? 1f / d : 0f;
        blk->D = (Half)d;
        Span<byte> L = stackalloc byte[32];
        for (int j = 0; j < 32; j++) L[j] = (byte)Math.Min(31, (int)(x[j] * id + 16.5f));
        Pack5(blk->Qs, blk->Qh, L);
    }

    // quantize_row_q5_0_impl: levels from make_qx_quants(nmax 16)
    private static void Q5_0Weighted(BlockQ5_0* blk, ReadOnlySpan<float> x, ReadOnlySpan<float> qw, float sigma2)
    {
        Span<float> weight = stackalloc float[32];
        Span<sbyte> L = stackalloc sbyte[32];
        ImportanceWeights(weight, x, qw, sigma2);
        blk->D = (Half)QuantSearch.MakeQx(32, 16, x, L, weight);
        Pack5(blk->Qs, blk->Qh, System.Runtime.InteropServices.MemoryMarshal.AsBytes(L));
    }

    // quantize_row_q5_1_ref: d = (max - min)/31, m = min, q = (int)((x - min)/d + 0.5) (no clamp in ggml either)
    private static void Q5_1Ref(BlockQ5_1* blk, ReadOnlySpan<float> x)
    {
        MinMax(x, out float min, out float max);
        float d = (max - min) / 31;
        float id = d != 0 ? 1f / d : 0f;
        blk->D = (Half)d;
        blk->M = (Half)min;
        Span<byte> L = stackalloc byte[32];
        for (int j = 0; j < 32; j++) L[j] = (byte)(int)((x[j] - min) * id + 0.5f);
        Pack5(blk->Qs, blk->Qh, L);
    }

    // quantize_row_q5_1_impl: (scale, min) from make_qkx3_quants(nmax 31)
    private static void Q5_1Weighted(BlockQ5_1* blk, ReadOnlySpan<float> x, ReadOnlySpan<float> qw, float sigma2)
    {
        Span<float> weight = stackalloc float[32];
        Span<byte> L = stackalloc byte[32], laux = stackalloc byte[32];
        ImportanceWeights(weight, x, qw, sigma2);
        float d = QuantSearch.MakeQkx(true, 32, 31, x, weight, L, out float min, laux, -0.9f, 0.05f, 36, false);
        blk->D = (Half)d;
        blk->M = (Half)(-min);
        Pack5(blk->Qs, blk->Qh, L);
    }

    private static void MinMax(ReadOnlySpan<float> x, out float min, out float max)
    {
        min = float.MaxValue;
        max = -float.MaxValue;
        for (int j = 0; j < x.Length; j++)
        {
            if (x[j] < min) min = x[j];
            if (x[j] > max) max = x[j];
        }
    }

    // 5-bit levels L (32,) -> low nibbles (byte j: element j | element j+16 << 4) and the fifth bits (u32, bit j = element j)
    private static void Pack5(byte* qs, byte* qhBytes, ReadOnlySpan<byte> L)
    {
        uint qh = 0;
        for (int j = 0; j < 16; j++)
        {
            qs[j] = (byte)((L[j] & 0x0F) | ((L[j + 16] & 0x0F) << 4));
            qh |= (uint)((L[j] & 0x10) >> 4) << j;
            qh |= (uint)((L[j + 16] & 0x10) >> 4) << (j + 16);
        }
        *(uint*)qhBytes = qh;
    }

    // quantize_iq4_nl (ntry 7) / quantize_row_iq4_nl_ref (ntry -1)
    private static void IQ4_NLBlock(BlockIQ4_NL* blk, ReadOnlySpan<float> x, ReadOnlySpan<float> qw, int ntry)
    {
        Span<float> scales = stackalloc float[1], weight = stackalloc float[32];
        Span<byte> L = stackalloc byte[32];
        QuantSearch.Iq4Nl(32, x, out ushort dh, new Span<byte>(blk->Qs, 16), out _, default, scales, weight, L, qw, ntry);
        blk->D = BitConverter.UInt16BitsToHalf(dh);
    }

    // quantize_iq4_xs (its _ref is the same call)
    private static void IQ4_XSBlock(BlockIQ4_XS* blk, ReadOnlySpan<float> x, ReadOnlySpan<float> qw)
    {
        Span<float> scales = stackalloc float[8], weight = stackalloc float[32];
        Span<byte> L = stackalloc byte[256];
        QuantSearch.Iq4Nl(256, x, out ushort dh, new Span<byte>(blk->Qs, 128), out ushort sh, new Span<byte>(blk->ScalesL, 4),
            scales, weight, L, qw, 7);
        blk->D = BitConverter.UInt16BitsToHalf(dh);
        blk->ScalesH = sh;
    }

    // ---- K-quants -----------------------------------------------------------------------------------------------

    // 2-bit levels L (256,) -> qs (64,): per half of 128, byte l holds elements l, l+32, l+64, l+96 at shifts 0, 2, 4, 6
    private static void Pack2(byte* qs, ReadOnlySpan<byte> L)
    {
        for (int j = 0; j < 256; j += 128)
        {
            for (int l = 0; l < 32; l++)
                qs[j / 4 + l] = (byte)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
        }
    }

    // quantize_row_q2_K_ref: per 16 (scale, min) by make_qkx2_quants (weights |x|, mean absolute error), both
    // quantized to 4 bits against their maxima, then the codes requantized with the stored scales
    private static void Q2_KRef(BlockQ2_K* blk, ReadOnlySpan<float> x)
    {
        Span<byte> L = stackalloc byte[256], laux = stackalloc byte[16];
        Span<float> weights = stackalloc float[16], mins = stackalloc float[16], scales = stackalloc float[16];
        const float q4scale = 15f;
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 16; j++)
        {
            for (int l = 0; l < 16; l++) weights[l] = MathF.Abs(x[16 * j + l]);
            scales[j] = QuantSearch.MakeQkx(false, 16, 3, x.Slice(16 * j, 16), weights, L.Slice(16 * j), out mins[j], laux, -0.5f, 0.1f, 15, true);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        if (maxScale > 0)
        {
            float iscale = q4scale / maxScale;
            for (int j = 0; j < 16; j++) blk->Scales[j] = (byte)QuantSearch.NearestInt(iscale * scales[j]);
            blk->D = (Half)(maxScale / q4scale);
        }
        else
        {
            for (int j = 0; j < 16; j++) blk->Scales[j] = 0;
            blk->D = (Half)0f;
        }
        if (maxMin > 0)
        {
            float iscale = q4scale / maxMin;
            for (int j = 0; j < 16; j++) blk->Scales[j] |= (byte)(QuantSearch.NearestInt(iscale * mins[j]) << 4);
            blk->Dmin = (Half)(maxMin / q4scale);
        }
        else
        {
            blk->Dmin = (Half)0f;
        }
        Q2_KRequantize(blk, x, L, (float)blk->D, (float)blk->Dmin);
        Pack2(blk->Qs, L);
    }

    // quantize_row_q2_K_impl: make_qkx3_quants per 16 with weights qw * sqrt(sigma2 + x^2), sigma2 = mean x^2 of
    // the super-block; scales and mins to 4 bits by make_qp_quants weighted by each sub-block's total weight
    private static void Q2_KWeighted(BlockQ2_K* blk, ReadOnlySpan<float> x, ReadOnlySpan<float> qw)
    {
        Span<byte> L = stackalloc byte[256], laux = stackalloc byte[16], ls = stackalloc byte[16], lm = stackalloc byte[16];
        Span<float> weight = stackalloc float[16], mins = stackalloc float[16], scales = stackalloc float[16], sw = stackalloc float[16];
        float sumX2 = 0;
        for (int j = 0; j < 256; j++) sumX2 += x[j] * x[j];
        float sigma2 = sumX2 / 256;
        for (int j = 0; j < 16; j++)
        {
            for (int l = 0; l < 16; l++) weight[l] = qw[16 * j + l] * MathF.Sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
            float s = 0;
            for (int l = 0; l < 16; l++) s += weight[l];
            sw[j] = s;
            scales[j] = QuantSearch.MakeQkx(true, 16, 3, x.Slice(16 * j, 16), weight, L.Slice(16 * j), out mins[j], laux, -0.9f, 0.05f, 36, false);
        }
        float dm = QuantSearch.MakeQp(16, 15, scales, ls, sw);
        float mm = QuantSearch.MakeQp(16, 15, mins, lm, sw);
        blk->D = (Half)dm;
        blk->Dmin = (Half)mm;
        for (int j = 0; j < 16; j++) blk->Scales[j] = (byte)(ls[j] | (lm[j] << 4));
        Q2_KRequantize(blk, x, L, (float)blk->D, (float)blk->Dmin);
        Pack2(blk->Qs, L);
    }

    // codes 0..3 against the stored (f16) scales; sub-blocks whose scale is 0 keep the search's codes
    private static void Q2_KRequantize(BlockQ2_K* blk, ReadOnlySpan<float> x, Span<byte> L, float dAll, float mAll)
    {
        for (int j = 0; j < 16; j++)
        {
            float d = dAll * (blk->Scales[j] & 0xF);
            if (d == 0) continue;
            float dm = mAll * (blk->Scales[j] >> 4);
            for (int i = 0; i < 16; i++)
                L[16 * j + i] = (byte)Math.Max(0, Math.Min(3, QuantSearch.NearestInt((x[16 * j + i] + dm) / d)));
        }
    }

    // quantize_row_q3_K_ref: per 16 a signed scale by make_q3_quants (levels -4..3), the 16 scales to 6 bits
    // against the one of largest magnitude (d = -max/32), codes requantized with the stored scales
    private static void Q3_KRef(BlockQ3_K* blk, ReadOnlySpan<float> x)
    {
        Span<sbyte> L = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        float maxScale = 0, amax = 0;
        for (int j = 0; j < 16; j++)
        {
            scales[j] = QuantSearch.MakeQ3(16, 4, x.Slice(16 * j, 16), L.Slice(16 * j));
            float a = MathF.Abs(scales[j]);
            if (a > amax) { amax = a; maxScale = scales[j]; }
        }
        for (int j = 0; j < 12; j++) blk->Scales[j] = 0;
        if (maxScale != 0)
        {
            float iscale = -32f / maxScale;
            for (int j = 0; j < 16; j++)
            {
                sbyte l = (sbyte)QuantSearch.NearestInt(iscale * scales[j]);
                PackScaleQ3K(blk->Scales, j, Math.Max(-32, Math.Min(31, (int)l)) + 32);
            }
            blk->D = (Half)(1 / iscale);
        }
        else
        {
            blk->D = (Half)0f;
        }
        Q3_KFinish(blk, x, L);
    }

    // quantize_row_q3_K_impl: make_qx_quants per 16 (weights qw * sqrt(sigma2 + x^2), sigma2 = 2 mean x^2), the 16
    // scales by make_qx_quants(nmax 32) weighted by each sub-block's total weight
    private static void Q3_KWeighted(BlockQ3_K* blk, ReadOnlySpan<float> x, ReadOnlySpan<float> qw)
    {
        Span<sbyte> L = stackalloc sbyte[256], ls = stackalloc sbyte[16];
        Span<float> scales = stackalloc float[16], weight = stackalloc float[16], sw = stackalloc float[16];
        float sumX2 = 0;
        for (int j = 0; j < 256; j++) sumX2 += x[j] * x[j];
        float sigma2 = 2 * sumX2 / 256;
        for (int j = 0; j < 16; j++)
        {
            for (int l = 0; l < 16; l++) weight[l] = qw[16 * j + l] * MathF.Sqrt(sigma2 + x[16 * j + l] * x[16 * j + l]);
            float s = 0;
            for (int l = 0; l < 16; l++) s += weight[l];
            sw[j] = s;
            scales[j] = QuantSearch.MakeQx(16, 4, x.Slice(16 * j, 16), L.Slice(16 * j), weight);
        }
        for (int j = 0; j < 12; j++) blk->Scales[j] = 0;
        float dBlock = QuantSearch.MakeQx(16, 32, scales, ls, sw);
        for (int j = 0; j < 16; j++) PackScaleQ3K(blk->Scales, j, ls[j]);
        blk->D = (Half)dBlock;
        Q3_KFinish(blk, x, L);
    }

    // 6-bit scale l (0..63) of sub-block j into Q3_K's 12 bytes (the inverse of Dequantize.ScaleQ3K); bytes start zeroed
    private static void PackScaleQ3K(byte* s, int j, int l)
    {
        if (j < 8) s[j] = (byte)(l & 0xF);
        else s[j - 8] |= (byte)((l & 0xF) << 4);
        s[8 + j % 4] |= (byte)((l >> 4) << (2 * (j / 4)));
    }

    // requantize to -4..3 with the stored scales (sub-blocks whose scale is 0 keep the search's levels), then
    // hmask (bit set = level >= 4) and the 2 low bits
    private static void Q3_KFinish(BlockQ3_K* blk, ReadOnlySpan<float> x, Span<sbyte> L)
    {
        float dAll = (float)blk->D;
        for (int j = 0; j < 16; j++)
        {
            int sc = Dequantize.ScaleQ3K(j, new ReadOnlySpan<byte>(blk->Scales, 12)) - 32;
            float d = dAll * sc;
            if (d == 0) continue;
            for (int i = 0; i < 16; i++)
                L[16 * j + i] = (sbyte)(Math.Max(-4, Math.Min(3, QuantSearch.NearestInt(x[16 * j + i] / d))) + 4);
        }
        for (int j = 0; j < 32; j++) blk->Hmask[j] = 0;
        for (int j = 0; j < 256; j++)
        {
            if (L[j] > 3)
            {
                blk->Hmask[j % 32] |= (byte)(1 << (j / 32));
                L[j] -= 4;
            }
        }
        Pack2(blk->Qs, System.Runtime.InteropServices.MemoryMarshal.AsBytes(L));
    }

    // quantize_row_q4_K_ref / quantize_row_q5_K_ref: per 32 (scale, min) by make_qkx2_quants with weights
    // sqrt(mean x^2) + |x|, both to 6 bits against their maxima (d = max/63), codes requantized
    private static void Q45_KRef(byte* blk, ReadOnlySpan<float> x, bool five)
    {
        int nmax = five ? 31 : 15;
        Span<byte> L = stackalloc byte[256], laux = stackalloc byte[32];
        Span<float> weights = stackalloc float[32], mins = stackalloc float[8], scales = stackalloc float[8];
        float maxScale = 0, maxMin = 0;
        for (int j = 0; j < 8; j++)
        {
            float sumX2 = 0;
            for (int l = 0; l < 32; l++) sumX2 += x[32 * j + l] * x[32 * j + l];
            float avX = MathF.Sqrt(sumX2 / 32);
            for (int l = 0; l < 32; l++) weights[l] = avX + MathF.Abs(x[32 * j + l]);
            scales[j] = five
                ? QuantSearch.MakeQkx(false, 32, 31, x.Slice(32 * j, 32), weights, L.Slice(32 * j), out mins[j], laux, -0.5f, 0.1f, 15, false)
                : QuantSearch.MakeQkx(false, 32, 15, x.Slice(32 * j, 32), weights, L.Slice(32 * j), out mins[j], laux, -1f, 0.1f, 20, false);
            if (scales[j] > maxScale) maxScale = scales[j];
            if (mins[j] > maxMin) maxMin = mins[j];
        }
        float invScale = maxScale > 0 ? 63f / maxScale : 0f;
        float invMin = maxMin > 0 ? 63f / maxMin : 0f;
        Span<byte> ls = stackalloc byte[8], lm = stackalloc byte[8];
        for (int j = 0; j < 8; j++)
        {
            ls[j] = Math.Min((byte)63, (byte)QuantSearch.NearestInt(invScale * scales[j]));
            lm[j] = Math.Min((byte)63, (byte)QuantSearch.NearestInt(invMin * mins[j]));
        }
        Q45_KFinish(blk, x, L, ls, lm, maxScale / 63f, maxMin / 63f, nmax);
    }

    // quantize_row_q4_K_impl / quantize_row_q5_K_impl: make_qkx3_quants per 32 with weights
    // qw * sqrt(sigma2 + x^2) (sigma2 = 2 mean x^2), scales and mins by make_qp_quants(nmax 63)
    private static void Q45_KWeighted(byte* blk, ReadOnlySpan<float> x, ReadOnlySpan<float> qw, bool five)
    {
        int nmax = five ? 31 : 15;
        Span<byte> L = stackalloc byte[256], laux = stackalloc byte[32], ls = stackalloc byte[8], lm = stackalloc byte[8];
        Span<float> weights = stackalloc float[32], mins = stackalloc float[8], scales = stackalloc float[8], sw = stackalloc float[8];
        float sumX2 = 0;
        for (int l = 0; l < 256; l++) sumX2 += x[l] * x[l];
        float sigma2 = 2 * sumX2 / 256;
        for (int j = 0; j < 8; j++)
        {
            for (int l = 0; l < 32; l++) weights[l] = qw[32 * j + l] * MathF.Sqrt(sigma2 + x[32 * j + l] * x[32 * j + l]);
            float s = 0;
            for (int l = 0; l < 32; l++) s += weights[l];
            sw[j] = s;
            scales[j] = QuantSearch.MakeQkx(true, 32, nmax, x.Slice(32 * j, 32), weights, L.Slice(32 * j), out mins[j], laux, -0.9f, 0.05f, 36, false);
        }
        float dBlock = QuantSearch.MakeQp(8, 63, scales, ls, sw);
        float mBlock = QuantSearch.MakeQp(8, 63, mins, lm, sw);
        if (five)
        {
            for (int j = 0; j < 8; j++)
            {
                ls[j] = Math.Min((byte)63, ls[j]);
                lm[j] = Math.Min((byte)63, lm[j]);
            }
        }
        Q45_KFinish(blk, x, L, ls, lm, dBlock, mBlock, nmax);
    }

    // pack the 6-bit scales/mins (get_scale_min_k4 layout), store d/dmin, requantize the codes to 0..nmax with the
    // stored values (sub-blocks whose scale is 0 keep the search's codes) and pack nibbles (+ fifth bits for Q5_K)
    private static void Q45_KFinish(byte* blk, ReadOnlySpan<float> x, Span<byte> L, ReadOnlySpan<byte> ls, ReadOnlySpan<byte> lm,
        float d, float dmin, int nmax)
    {
        // Q4_K and Q5_K share the head: d, dmin (f16), scales[12]
        Half* dh = (Half*)blk;
        byte* sc = blk + 4;
        for (int j = 0; j < 8; j++)
        {
            if (j < 4)
            {
                sc[j] = ls[j];
                sc[j + 4] = lm[j];
            }
            else
            {
                sc[j + 4] = (byte)((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
                sc[j - 4] |= (byte)((ls[j] >> 4) << 6);
                sc[j] |= (byte)((lm[j] >> 4) << 6);
            }
        }
        dh[0] = (Half)d;
        dh[1] = (Half)dmin;
        float dAll = (float)dh[0], mAll = (float)dh[1];
        for (int j = 0; j < 8; j++)
        {
            Dequantize.ScaleMinK4(j, new ReadOnlySpan<byte>(sc, 12), out int s, out int m);
            float dj = dAll * s;
            if (dj == 0) continue;
            float dm = mAll * m;
            for (int i = 0; i < 32; i++)
                L[32 * j + i] = (byte)Math.Max(0, Math.Min(nmax, QuantSearch.NearestInt((x[32 * j + i] + dm) / dj)));
        }
        if (nmax == 15)
        {
            byte* q = ((BlockQ4_K*)blk)->Qs;
            for (int j = 0; j < 256; j += 64)
            {
                for (int l = 0; l < 32; l++) q[l] = (byte)(L[j + l] | (L[j + l + 32] << 4));
                q += 32;
            }
            return;
        }
        var b5 = (BlockQ5_K*)blk;
        byte* qh = b5->Qh, ql = b5->Qs;
        for (int j = 0; j < 32; j++) qh[j] = 0;
        int m1 = 1, m2 = 2;
        for (int n = 0; n < 256; n += 64)
        {
            for (int j = 0; j < 32; j++)
            {
                int l1 = L[n + j], l2 = L[n + j + 32];
                if (l1 > 15) { l1 -= 16; qh[j] |= (byte)m1; }
                if (l2 > 15) { l2 -= 16; qh[j] |= (byte)m2; }
                ql[j] = (byte)(l1 | (l2 << 4));
            }
            m1 <<= 2;
            m2 <<= 2;
            ql += 32;
        }
    }

    // quantize_row_q6_K_ref / _impl: per 16 a signed scale by make_qx_quants(nmax 32; weights x^2, or the importance
    // vector itself), the scales to int8 against the one of largest magnitude (d = -max/128), codes requantized
    private static void Q6_KBlock(BlockQ6_K* blk, ReadOnlySpan<float> x, ReadOnlySpan<float> qw)
    {
        Span<sbyte> L = stackalloc sbyte[256];
        Span<float> scales = stackalloc float[16];
        float maxScale = 0, maxAbsScale = 0;
        for (int ib = 0; ib < 16; ib++)
        {
            float scale = QuantSearch.MakeQx(16, 32, x.Slice(16 * ib, 16), L.Slice(16 * ib), qw.IsEmpty ? default : qw.Slice(16 * ib, 16));
            scales[ib] = scale;
            float a = MathF.Abs(scale);
            if (a > maxAbsScale) { maxAbsScale = a; maxScale = scale; }
        }
        if (maxAbsScale < QuantSearch.GroupMaxEps)
        {
            new Span<byte>(blk, BlockQ6_K.Size).Clear();
            return;
        }
        float iscale = -128f / maxScale;
        blk->D = (Half)(1 / iscale);
        for (int ib = 0; ib < 16; ib++) blk->Scales[ib] = (sbyte)Math.Min(127, QuantSearch.NearestInt(iscale * scales[ib]));
        float dAll = (float)blk->D;
        for (int j = 0; j < 16; j++)
        {
            float d = dAll * blk->Scales[j];
            if (d == 0) continue;
            for (int i = 0; i < 16; i++)
                L[16 * j + i] = (sbyte)(Math.Max(-32, Math.Min(31, QuantSearch.NearestInt(x[16 * j + i] / d))) + 32);
        }
        byte* ql = blk->Ql, qh = blk->Qh;
        for (int j = 0; j < 256; j += 128)
        {
            for (int l = 0; l < 32; l++)
            {
                int q1 = L[j + l] & 0xF, q2 = L[j + l + 32] & 0xF, q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
                ql[l] = (byte)(q1 | (q3 << 4));
                ql[l + 32] = (byte)(q2 | (q4 << 4));
                qh[l] = (byte)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
            }
            ql += 64;
            qh += 32;
        }
    }
}
