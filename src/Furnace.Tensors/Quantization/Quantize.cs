// Float rows to stored types, bit-exact with ggml (ggml-quants.c) and its f32->f16 / f32->bf16 rounding (round to
// nearest even). Three entry points per row:
//   Row(dst, src, t)                what ggml_quantize_chunk writes without an importance matrix (llama-quantize);
//                                   for every type but IQ4_NL that is quantize_row_<t>_ref
//   Row(dst, src, t, importance)    ggml_quantize_chunk with an importance vector (src.Length,) per column
//                                   (llama-imatrix's quant_weights row); empty = none
//   RowRef(dst, src, t)             quantize_row_<t>_ref (IQ4_NL's is a single pass without the scale search)
// The block-type encoders live in Quantize.Blocks.cs.
namespace Furnace.Tensors;

public static unsafe partial class Quantize
{
    // dst (RowBytes(t, src.Length)) = src encoded as t, as ggml_quantize_chunk does without an importance matrix
    public static void Row(Span<byte> dst, ReadOnlySpan<float> src, DType t) => Encode(dst, src, t, default, reference: false);

    // dst (RowBytes(t, src.Length)) = src encoded as t with importance (src.Length,) per element (ggml quant_weights)
    public static void Row(Span<byte> dst, ReadOnlySpan<float> src, DType t, ReadOnlySpan<float> importance)
    {
        if (!importance.IsEmpty && importance.Length != src.Length)
            throw new ArgumentException($"importance holds {importance.Length} values, the row {src.Length}");
        Encode(dst, src, t, importance, reference: false);
    }

    // dst (RowBytes(t, src.Length)) = quantize_row_<t>_ref(src)
    public static void RowRef(Span<byte> dst, ReadOnlySpan<float> src, DType t) => Encode(dst, src, t, default, reference: true);

    private static void Encode(Span<byte> dst, ReadOnlySpan<float> src, DType t, ReadOnlySpan<float> qw, bool reference)
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
                case DType.Q8_0: // quantize_q8_0 ignores quant_weights
                    for (int b = 0; b < src.Length / 32; b++) Q8_0Block((BlockQ8_0*)(d + b * BlockQ8_0.Size), src.Slice(b * 32, 32));
                    break;
                case DType.Q4_0 when qw.IsEmpty:
                    for (int b = 0; b < src.Length / 32; b++) Q4_0Block((BlockQ4_0*)(d + b * BlockQ4_0.Size), src.Slice(b * 32, 32));
                    break;
                case DType.Q4_0 or DType.Q4_1 or DType.Q5_0 or DType.Q5_1 or DType.IQ4_NL
                    or DType.Q2_K or DType.Q3_K or DType.Q4_K or DType.Q5_K or DType.Q6_K or DType.IQ4_XS:
                    Blocks(d, src, t, qw, reference);
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
