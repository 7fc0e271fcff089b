// Scalar references of ggml-cpu's activation quantizers, byte-identical with what the x86 build of libggml-cpu runs
// before its quantized dot products (llama.cpp commit 01243c587feceaa5d6a6c2305535ef2f549c48b8):
//   Q8_K (K-quants, IQ4_XS): quantize_row_q8_K = quantize_row_q8_K_ref (ggml-quants.c) on x86: per 256,
//        iscale = -127/max (max = signed value of largest magnitude), q = min(127, nearest_int(iscale * x)),
//        d = 1/iscale as f32, bsums[j] = sum of the 16 codes of group j; an all-zero block is all zeros.
//   Q8_1 (Q4_1, Q5_1): ggml-cpu/arch/x86 quantize_row_q8_1 (AVX2): per 32, d = amax/127 (stored f16),
//        id = amax != 0 ? 127/amax : 0, q = round-half-even(x * id), s = f16(d * sum(q)).
// SIMD versions belong to the kernels; they are tested against these.
namespace Furnace.Tensors;

public static class ActivationQuant
{
    // dst (RowBytes(Q8_K, x.Length)) = x as Q8_K blocks
    public static void Q8_K(Span<byte> dst, ReadOnlySpan<float> x)
    {
        int nb = CheckSizes(dst, x, DType.Q8_K);
        for (int b = 0; b < nb; b++)
        {
            ReadOnlySpan<float> xb = x.Slice(b * 256, 256);
            Span<byte> y = dst.Slice(b * BlockQ8_K.Size, BlockQ8_K.Size);
            Span<sbyte> qs = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(y.Slice(4, 256));
            Span<short> bsums = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, short>(y.Slice(260, 32));
            float max = 0, amax = 0;
            for (int j = 0; j < 256; j++)
            {
                float ax = MathF.Abs(xb[j]);
                if (ax > amax) { amax = ax; max = xb[j]; }
            }
            if (amax == 0)
            {
                y.Clear();
                continue;
            }
            float iscale = -127f / max;
            for (int j = 0; j < 256; j++) qs[j] = (sbyte)Math.Min(127, QuantSearch.NearestInt(iscale * xb[j]));
            for (int j = 0; j < 16; j++)
            {
                int sum = 0;
                for (int i = 0; i < 16; i++) sum += qs[16 * j + i];
                bsums[j] = (short)sum;
            }
            BitConverter.TryWriteBytes(y, 1 / iscale);
        }
    }

    // dst (RowBytes(Q8_1, x.Length)) = x as Q8_1 blocks
    public static void Q8_1(Span<byte> dst, ReadOnlySpan<float> x)
    {
        int nb = CheckSizes(dst, x, DType.Q8_1);
        for (int b = 0; b < nb; b++)
        {
            ReadOnlySpan<float> xb = x.Slice(b * 32, 32);
            Span<byte> y = dst.Slice(b * BlockQ8_1.Size, BlockQ8_1.Size);
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(xb[j]));
            float d = amax / 127f;
            float id = amax != 0 ? 127f / amax : 0f;
            int sum = 0;
            for (int j = 0; j < 32; j++)
            {
                int q = (int)MathF.Round(xb[j] * id, MidpointRounding.ToEven);
                y[4 + j] = (byte)(sbyte)q;
                sum += q;
            }
            BitConverter.TryWriteBytes(y, (Half)d);
            BitConverter.TryWriteBytes(y.Slice(2), (Half)(d * sum));
        }
    }

    private static int CheckSizes(Span<byte> dst, ReadOnlySpan<float> x, DType t)
    {
        long need = DTypes.RowBytes(t, x.Length);
        if (dst.Length < need) throw new ArgumentException($"dst holds {dst.Length} bytes, need {need}");
        return x.Length / DTypes.BlockSize(t);
    }
}
