// Stored rows to float: F16/BF16 widening and Q8_0/Q4_0 block decoding (ggml dequantize_row_*), also of
// Interleaved8 / Interleaved16 (repacked) matrices. The other block types are in Dequantize.Blocks.cs.
namespace Furnace.Tensors;

public static unsafe partial class Dequantize
{
    // dst (w.Cols,) = row r of w as float
    public static void Row(Span<float> dst, WeightMatrix w, int r)
    {
        if ((uint)r >= (uint)w.Rows) throw new ArgumentOutOfRangeException(nameof(r), r, $"row outside [0, {w.Rows})");
        if (w.IsInterleaved8) Repack.DequantizeRow(dst.Slice(0, w.Cols), w, r);
        else if (w.Layout == WeightLayout.Interleaved16) RepackK.DequantizeRow(dst.Slice(0, w.Cols), w, r);
        else Bytes(dst.Slice(0, w.Cols), w.Row(r), w.Type);
    }

    // dst (n,) = the first n elements of type t in src (checked: src holds at least RowBytes(t, n) bytes)
    public static void Bytes(Span<float> dst, ReadOnlySpan<byte> src, DType t)
    {
        long need = DTypes.RowBytes(t, dst.Length);
        if (src.Length < need) throw new ArgumentException($"src holds {src.Length} bytes, {dst.Length} {DTypes.Name(t)} elements need {need}");
        fixed (byte* p = src) Bytes(dst, p, t);
    }

    // dst (n,) = n elements of type t starting at src
    public static void Bytes(Span<float> dst, byte* src, DType t)
    {
        int n = dst.Length;
        switch (t)
        {
            case DType.F32:
                new ReadOnlySpan<float>(src, n).CopyTo(dst);
                break;
            case DType.F16:
                for (int i = 0; i < n; i++) dst[i] = (float)((Half*)src)[i];
                break;
            case DType.BF16:
                for (int i = 0; i < n; i++) dst[i] = BitConverter.Int32BitsToSingle(((ushort*)src)[i] << 16);
                break;
            case DType.Q8_0:
                for (int b = 0; b < n / 32; b++)
                {
                    var blk = (BlockQ8_0*)(src + b * BlockQ8_0.Size);
                    float d = (float)blk->D;
                    for (int j = 0; j < 32; j++) dst[b * 32 + j] = blk->Qs[j] * d;
                }
                break;
            case DType.Q4_0:
                for (int b = 0; b < n / 32; b++)
                {
                    var blk = (BlockQ4_0*)(src + b * BlockQ4_0.Size);
                    float d = (float)blk->D;
                    for (int j = 0; j < 16; j++)
                    {
                        dst[b * 32 + j] = ((blk->Qs[j] & 0x0F) - 8) * d;
                        dst[b * 32 + j + 16] = ((blk->Qs[j] >> 4) - 8) * d;
                    }
                }
                break;
            case DType.Q4_1 or DType.Q5_0 or DType.Q5_1 or DType.Q8_1 or DType.IQ4_NL
                or DType.Q2_K or DType.Q3_K or DType.Q4_K or DType.Q5_K or DType.Q6_K or DType.Q8_K or DType.IQ4_XS:
                fixed (float* y = dst) Blocks(y, src, n, t);
                break;
            default:
                throw new NotSupportedException($"dtype {t} cannot be dequantized");
        }
    }
}
