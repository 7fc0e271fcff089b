// Float rows to stored types, bit-exact with ggml's reference quantizers (ggml-quants.c quantize_row_*_ref)
// and its f32->f16 / f32->bf16 rounding (round to nearest even).
namespace Furnace.Tensors;

public static unsafe class Quantize
{
    // dst (RowBytes(t, src.Length)) = src encoded as t
    public static void Row(Span<byte> dst, ReadOnlySpan<float> src, DType t)
    {
        long need = DTypes.RowBytes(t, src.Length);
        if (dst.Length < need) throw new ArgumentException($"dst holds {dst.Length} bytes, need {need}");
        fixed (byte* d = dst)
        {
            switch (t)
            {
                case DType.F32:
                    src.CopyTo(new Span<float>(d, src.Length));
                    break;
                case DType.F16:
                    for (int i = 0; i < src.Length; i++) ((Half*)d)[i] = (Half)src[i];
                    break;
                case DType.BF16:
                    for (int i = 0; i < src.Length; i++) ((ushort*)d)[i] = ToBF16(src[i]);
                    break;
                case DType.Q8_0:
                    for (int b = 0; b < src.Length / 32; b++) Q8_0Block((BlockQ8_0*)(d + b * BlockQ8_0.Size), src.Slice(b * 32, 32));
                    break;
                case DType.Q4_0:
                    for (int b = 0; b < src.Length / 32; b++) Q4_0Block((BlockQ4_0*)(d + b * BlockQ4_0.Size), src.Slice(b * 32, 32));
                    break;
                default:
                    throw new NotSupportedException($"dtype {t} cannot be quantized");
            }
        }
    }

    // ggml_compute_fp32_to_bf16: round to nearest even, NaN kept quiet.
    public static ushort ToBF16(float f)
    {
        uint u = BitConverter.SingleToUInt32Bits(f);
        if ((u & 0x7fffffff) > 0x7f800000) return (ushort)((u >> 16) | 64);
        return (ushort)((u + (0x7fff + ((u >> 16) & 1))) >> 16);
    }

    // quantize_row_q8_0_ref: d = amax/127, q = round(x/d)
    public static void Q8_0Block(BlockQ8_0* blk, ReadOnlySpan<float> x)
    {
        float amax = 0;
        for (int j = 0; j < 32; j++) amax = MathF.Max(amax, MathF.Abs(x[j]));
        float d = amax / 127f;
        float id = d != 0 ? 1f / d : 0f;
        blk->D = (Half)d;
        for (int j = 0; j < 32; j++) blk->Qs[j] = (sbyte)MathF.Round(x[j] * id, MidpointRounding.AwayFromZero);
    }

    // quantize_row_q4_0_ref: d = max/-8 (max = the signed value of largest magnitude), q = min(15, (int)(x/d + 8.5))
    public static void Q4_0Block(BlockQ4_0* blk, ReadOnlySpan<float> x)
    {
        float amax = 0, max = 0;
        for (int j = 0; j < 32; j++)
        {
            if (amax < MathF.Abs(x[j])) { amax = MathF.Abs(x[j]); max = x[j]; }
        }
        float d = max / -8f;
        float id = d != 0 ? 1f / d : 0f;
        blk->D = (Half)d;
        for (int j = 0; j < 16; j++)
        {
            int q0 = Math.Min(15, (int)(x[j] * id + 8.5f));
            int q1 = Math.Min(15, (int)(x[j + 16] * id + 8.5f));
            blk->Qs[j] = (byte)(q0 | (q1 << 4));
        }
    }
}
