// The scale searches behind ggml's quantizers (ggml-quants.c, llama.cpp commit 01243c587feceaa5d6a6c2305535ef2f549c48b8):
//   NearestInt      nearest_int: round half to even through the 1.5 * 2^23 float trick (valid for |x| <= 2^22; beyond
//                   that ggml returns garbage bits and so do we, identically, because the float add is the same)
//   MakeQx          make_qx_quants, rmse_type 1 (weights x^2 or the given ones): symmetric levels -nmax..nmax-1,
//                   the scale -nmax/max and 18 nudged ones, kept by the weighted fit sumlx^2/suml2
//   MakeQ3          make_q3_quants with do_rmse: as MakeQx's first guess, then up to 5 passes moving single levels
//   MakeQkx2/3      make_qkx2_quants / make_qkx3_quants: levels 0..nmax with a min, least-squares (scale, min) per
//                   candidate scale, kept by weighted |error| (use_mad) or squared error
//   MakeQp          make_qp_quants: positive levels 0..nmax for the super-block's scales and mins, weighted
//   BestIndexInt8   best_index_int8 (binary search over the sorted IQ4 table, ties to the upper level)
//   Iq4Nl           quantize_row_iq4_nl_impl, shared by IQ4_NL (one block of 32) and IQ4_XS (8 blocks of 32)
// Every float expression keeps ggml's operand order (a*b*c is (a*b)*c; ints convert to float where C converts them):
// ggml's libggml-base is compiled without FMA contraction and .NET never contracts, so results are bit-identical.
// All buffers are the caller's (stack) spans: nothing here allocates.
namespace Furnace.Tensors;

internal static class QuantSearch
{
    public const float GroupMaxEps = 1e-15f; // GROUP_MAX_EPS: below this a group counts as all zero

    public static int NearestInt(float f)
    {
        float v = f + 12582912f;
        return (BitConverter.SingleToInt32Bits(v) & 0x007fffff) - 0x00400000;
    }

    // L (n,) = levels 0..2nmax-1 (level - nmax is the signed code); returns the scale. qw empty: weights x^2.
    public static float MakeQx(int n, int nmax, ReadOnlySpan<float> x, Span<sbyte> L, ReadOnlySpan<float> qw)
    {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            L.Slice(0, n).Clear();
            return 0f;
        }
        bool hasQw = !qw.IsEmpty;
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i])));
            L[i] = (sbyte)(l + nmax);
            float w = hasQw ? qw[i] : x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        float scale = suml2 != 0 ? sumlx / suml2 : 0f;
        float best = scale * sumlx;
        for (int step = -9; step <= 9; step++)
        {
            if (step == 0) continue;
            iscale = -(nmax + 0.1f * step) / max;
            sumlx = suml2 = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i])));
                float w = hasQw ? qw[i] : x[i] * x[i];
                sumlx += w * x[i] * l;
                suml2 += w * l * l;
            }
            if (suml2 > 0 && sumlx * sumlx > best * suml2)
            {
                for (int i = 0; i < n; i++) L[i] = (sbyte)(nmax + Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i]))));
                scale = sumlx / suml2;
                best = scale * sumlx;
            }
        }
        return scale;
    }

    // L (n,) = levels 0..2nmax-1, or all 0 for an all-zero group (ggml returns before adding nmax there); weights x^2
    public static float MakeQ3(int n, int nmax, ReadOnlySpan<float> x, Span<sbyte> L)
    {
        float max = 0, amax = 0;
        for (int i = 0; i < n; i++)
        {
            float ax = MathF.Abs(x[i]);
            if (ax > amax) { amax = ax; max = x[i]; }
        }
        if (amax < GroupMaxEps)
        {
            L.Slice(0, n).Clear();
            return 0f;
        }
        float iscale = -nmax / max;
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(iscale * x[i])));
            L[i] = (sbyte)l;
            float w = x[i] * x[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int pass = 0; pass < 5; pass++)
        {
            int changed = 0;
            for (int i = 0; i < n; i++)
            {
                float w = x[i] * x[i];
                float slx = sumlx - w * x[i] * L[i];
                if (slx > 0)
                {
                    float sl2 = suml2 - w * L[i] * L[i];
                    int nl = Math.Max(-nmax, Math.Min(nmax - 1, NearestInt(x[i] * sl2 / slx)));
                    if (nl != L[i])
                    {
                        slx += w * x[i] * nl;
                        sl2 += w * nl * nl;
                        if (sl2 > 0 && slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            L[i] = (sbyte)nl;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) break;
        }
        for (int i = 0; i < n; i++) L[i] = (sbyte)(L[i] + nmax);
        return suml2 > 0f ? sumlx / suml2 : 0f;
    }

    // make_qkx2_quants (v2 = false) and make_qkx3_quants (v2 = true, weights given): L (n,) = levels 0..nmax,
    // theMin = -min >= 0 so that x ~ scale * L - theMin; laux (n,) scratch. The two differ only in the all-equal test
    // (max == min vs max <= min) and in how a candidate level is clamped (v3 guards against inf/NaN, see below).
    public static float MakeQkx(bool v3, int n, int nmax, ReadOnlySpan<float> x, ReadOnlySpan<float> weights, Span<byte> L,
        out float theMin, Span<byte> laux, float rmin, float rdelta, int nstep, bool useMad)
    {
        float min = x[0], max = x[0];
        float sumW = weights[0];
        float sumX = sumW * x[0];
        for (int i = 1; i < n; i++)
        {
            if (x[i] < min) min = x[i];
            if (x[i] > max) max = x[i];
            float w = weights[i];
            sumW += w;
            sumX += w * x[i];
        }
        if (min > 0) min = 0;
        if (v3 ? max <= min : max == min)
        {
            L.Slice(0, n).Clear();
            theMin = -min;
            return 0f;
        }
        float iscale = nmax / (max - min);
        float scale = 1 / iscale;
        float bestError = 0;
        for (int i = 0; i < n; i++)
        {
            int l = NearestInt(iscale * (x[i] - min));
            L[i] = (byte)Math.Max(0, Math.Min(nmax, l));
            float diff = scale * L[i] + min - x[i];
            diff = useMad ? MathF.Abs(diff) : diff * diff;
            bestError += weights[i] * diff;
        }
        if (nstep < 1)
        {
            theMin = -min;
            return scale;
        }
        for (int step = 0; step <= nstep; step++)
        {
            // min (and so max - min) is the best fit so far, not the data minimum
            iscale = (rmin + rdelta * step + nmax) / (max - min);
            float sumL = 0, sumL2 = 0, sumXL = 0;
            for (int i = 0; i < n; i++)
            {
                int l;
                if (v3)
                {
                    // v may be inf/NaN or beyond nearest_int's range once min sits near max
                    float v = iscale * (x[i] - min);
                    l = v > 0 ? NearestInt(v < nmax ? v : nmax) : 0;
                }
                else
                {
                    l = Math.Max(0, Math.Min(nmax, NearestInt(iscale * (x[i] - min))));
                }
                laux[i] = (byte)l;
                float w = weights[i];
                sumL += w * l;
                sumL2 += w * l * l;
                sumXL += w * l * x[i];
            }
            float det = sumW * sumL2 - sumL * sumL;
            if (det > 0)
            {
                float thisScale = (sumW * sumXL - sumX * sumL) / det;
                float thisMin = (sumL2 * sumX - sumL * sumXL) / det;
                if (thisMin > 0)
                {
                    thisMin = 0;
                    thisScale = sumXL / sumL2;
                }
                float err = 0;
                for (int i = 0; i < n; i++)
                {
                    float diff = thisScale * laux[i] + thisMin - x[i];
                    diff = useMad ? MathF.Abs(diff) : diff * diff;
                    err += weights[i] * diff;
                }
                if (err < bestError)
                {
                    laux.Slice(0, n).CopyTo(L);
                    bestError = err;
                    scale = thisScale;
                    min = thisMin;
                }
            }
        }
        theMin = -min;
        return scale;
    }

    // L (n,) = levels 0..nmax of the non-negative x (a super-block's sub-block scales or mins), weighted by qw
    public static float MakeQp(int n, int nmax, ReadOnlySpan<float> x, Span<byte> L, ReadOnlySpan<float> qw)
    {
        float max = 0;
        for (int i = 0; i < n; i++) max = max > x[i] ? max : x[i];
        if (max < GroupMaxEps)
        {
            L.Slice(0, n).Clear();
            return 0f;
        }
        float iscale = nmax / max;
        for (int i = 0; i < n; i++) L[i] = (byte)NearestInt(iscale * x[i]);
        float scale = 1 / iscale;
        float bestMse = 0;
        for (int i = 0; i < n; i++)
        {
            float diff = x[i] - scale * L[i];
            bestMse += qw[i] * diff * diff;
        }
        for (int step = -4; step <= 4; step++)
        {
            if (step == 0) continue;
            float iscaleIs = (0.1f * step + nmax) / max;
            float scaleIs = 1 / iscaleIs;
            float mse = 0;
            for (int i = 0; i < n; i++)
            {
                int l = Math.Min(nmax, NearestInt(iscaleIs * x[i]));
                float diff = x[i] - scaleIs * l;
                mse += qw[i] * diff * diff;
            }
            if (mse < bestMse)
            {
                bestMse = mse;
                iscale = iscaleIs;
            }
        }
        float sumlx = 0, suml2 = 0;
        for (int i = 0; i < n; i++)
        {
            int l = Math.Min(nmax, NearestInt(iscale * x[i]));
            L[i] = (byte)l; // ggml stores into uint8_t and reads the byte back below
            float w = qw[i];
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        for (int pass = 0; pass < 5; pass++)
        {
            int changed = 0;
            for (int i = 0; i < n; i++)
            {
                float w = qw[i];
                float slx = sumlx - w * x[i] * L[i];
                float sl2 = suml2 - w * L[i] * L[i];
                if (slx > 0 && sl2 > 0)
                {
                    int nl = Math.Min(nmax, NearestInt(x[i] * sl2 / slx));
                    if (nl != L[i])
                    {
                        slx += w * x[i] * nl;
                        sl2 += w * nl * nl;
                        if (slx * slx * suml2 > sumlx * sumlx * sl2)
                        {
                            L[i] = (byte)nl;
                            sumlx = slx;
                            suml2 = sl2;
                            changed++;
                        }
                    }
                }
            }
            if (changed == 0) break;
        }
        return suml2 > 0f ? sumlx / suml2 : 0f;
    }

    // index into the ascending table of the level nearest to x (exact midpoint ties go up)
    public static int BestIndexInt8(ReadOnlySpan<sbyte> val, float x)
    {
        int n = val.Length;
        if (x <= val[0]) return 0;
        if (x >= val[n - 1]) return n - 1;
        int lo = 0, hi = n - 1;
        while (hi - lo > 1)
        {
            int mid = (lo + hi) / 2;
            if (x < val[mid]) hi = mid;
            else lo = mid;
        }
        return x - val[hi - 1] < val[hi] - x ? hi - 1 : hi;
    }

    // quantize_row_iq4_nl_impl over one super-block x (superSize,) of 32-blocks: writes the f16 scale bits (dh), q4
    // (superSize/2,) nibbles, and for superSize > 32 the 6-bit block scales (scalesH, scalesL (superSize/64,)).
    // ntry > 0: the searched quantizer (ggml_quantize_chunk); ntry = -1: quantize_row_iq4_nl_ref's single pass.
    // qw (superSize,) or empty; scales (superSize/32,), weight (32,), L (superSize,) are scratch.
    public static void Iq4Nl(int superSize, ReadOnlySpan<float> x, out ushort dh, Span<byte> q4, out ushort scalesH,
        Span<byte> scalesL, Span<float> scales, Span<float> weight, Span<byte> L, ReadOnlySpan<float> qw, int ntry)
    {
        const int block = 32;
        ReadOnlySpan<sbyte> values = Furnace.Tensors.Iq4Nl.Values;
        float sigma2 = 0;
        for (int j = 0; j < superSize; j++) sigma2 += x[j] * x[j];
        sigma2 *= 2f / superSize;
        q4.Slice(0, superSize / 2).Clear();
        dh = 0;
        scalesH = 0;
        int nb = superSize / block;
        float maxScale = 0, amaxScale = 0;
        for (int ib = 0; ib < nb; ib++)
        {
            ReadOnlySpan<float> xb = x.Slice(ib * block, block);
            Span<byte> lb = L.Slice(ib * block, block);
            if (!qw.IsEmpty)
            {
                ReadOnlySpan<float> w = qw.Slice(ib * block, block);
                for (int j = 0; j < block; j++) weight[j] = w[j] * MathF.Sqrt(sigma2 + xb[j] * xb[j]);
            }
            else
            {
                for (int j = 0; j < block; j++) weight[j] = xb[j] * xb[j];
            }
            float amax = 0, max = 0;
            for (int j = 0; j < block; j++)
            {
                float ax = MathF.Abs(xb[j]);
                if (ax > amax) { amax = ax; max = xb[j]; }
            }
            if (amax < GroupMaxEps)
            {
                scales[ib] = 0;
                if (ntry <= 0) lb.Fill(8); // ggml leaves L as it was (stale or uninitialized); 8 is what ntry > 0 writes
                continue;
            }
            float d = ntry > 0 ? -max / values[0] : max / values[0];
            float id = 1 / d;
            float sumqx = 0, sumq2 = 0;
            for (int j = 0; j < block; j++)
            {
                int l = BestIndexInt8(values, id * xb[j]);
                lb[j] = (byte)l;
                float q = values[l];
                float w = weight[j];
                sumqx += w * q * xb[j];
                sumq2 += w * q * q;
            }
            d = sumq2 > 0 ? sumqx / sumq2 : 0f; // all weights 0 (an importance vector with zeros): scale 0, not NaN
            float best = d * sumqx;
            for (int itry = -ntry; itry <= ntry; itry++)
            {
                id = (itry + values[0]) / max;
                sumqx = sumq2 = 0;
                for (int j = 0; j < block; j++)
                {
                    float q = values[BestIndexInt8(values, id * xb[j])];
                    float w = weight[j];
                    sumqx += w * q * xb[j];
                    sumq2 += w * q * q;
                }
                if (sumq2 > 0 && sumqx * sumqx > best * sumq2)
                {
                    d = sumqx / sumq2;
                    best = d * sumqx;
                }
            }
            scales[ib] = d;
            float absD = MathF.Abs(d);
            if (absD > amaxScale)
            {
                amaxScale = absD;
                maxScale = d;
            }
        }

        if (nb > 1)
        {
            float d = -maxScale / 32;
            dh = BitConverter.HalfToUInt16Bits((Half)d);
            float id = d != 0 ? 1 / d : 0f;
            for (int ib = 0; ib < nb; ib++)
            {
                int l = Math.Max(-32, Math.Min(31, NearestInt(id * scales[ib])));
                float dl = d * l;
                float idl = dl != 0 ? 1 / dl : 0f;
                ReadOnlySpan<float> xb = x.Slice(ib * block, block);
                for (int j = 0; j < block; j++) L[ib * block + j] = (byte)BestIndexInt8(values, idl * xb[j]);
                l += 32;
                int lLow = l & 0xF, lHigh = l >> 4;
                if (ib % 2 == 0) scalesL[ib / 2] = (byte)lLow;
                else scalesL[ib / 2] |= (byte)(lLow << 4);
                scalesH |= (ushort)(lHigh << (2 * (ib % 8)));
            }
        }
        else
        {
            dh = BitConverter.HalfToUInt16Bits((Half)scales[0]);
            if (ntry > 0)
            {
                float id = scales[0] != 0 ? 1 / scales[0] : 0;
                for (int j = 0; j < superSize; j++) L[j] = (byte)BestIndexInt8(values, id * x[j]);
            }
        }
        for (int i = 0; i < superSize / 32; i++)
        {
            for (int j = 0; j < 16; j++) q4[16 * i + j] = (byte)(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
        }
    }
}
