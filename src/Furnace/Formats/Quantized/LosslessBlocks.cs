// A GPTQ / AWQ linear re-encoded, without changing one value, as a ggml block type (ggml-common.h layouts):
//   Q4_0 (value = (q − 8)·d): 4-bit codes whose zero point is 8 (GPTQ sym=True), d = the group's scale;
//   Q8_0 (value = qs·d, qs int8): 8-bit codes whose zero point is 128 (GPTQ sym=True), qs = q − 128;
//   Q4_1 (value = q·d + m): 4-bit asymmetric codes, d = scale, m = −scale·zero, when that product fits f16.
// Each 32-column block must lie in one group (group_size a multiple of 32 and no act-order permutation across
// a block). Every row is decoded back with the engine's own Dequantize and compared with the exact f32 weight;
// any difference (an m that rounds in f16, an f16 scale that underflows) rejects the encoding, so what comes out
// of TryEncode is exact by construction.
using System.Buffers.Binary;
using Furnace.Tensors;

namespace Furnace.Formats.Quantized;

public static class LosslessBlocks
{
    /// <summary>The block type this linear converts to losslessly, or null (then f32 is the exact form).</summary>
    public static DType? TypeFor(QuantizedLinear l)
    {
        if (l.Cols % 32 != 0) return null;
        for (int b = 0; b < l.Cols / 32; b++)
            for (int j = 1; j < 32; j++)
                if (l.GroupOf[b * 32 + j] != l.GroupOf[b * 32]) return null;
        if (l.Bits == 8) return l.Zeros.All(z => z == 128) ? DType.Q8_0 : null;
        if (l.Bits != 4) return null;
        if (l.Zeros.All(z => z == 8)) return DType.Q4_0;
        return l.Zeros.All(z => z is >= 0 and <= 15) ? DType.Q4_1 : null;
    }

    /// <summary>Rows × RowBytes(type, Cols) bytes of blocks holding exactly <see cref="QuantizedLinear.Dequantize"/>'s values, or null.</summary>
    public static byte[]? TryEncode(QuantizedLinear l, out DType type)
    {
        type = DType.F32;
        if (TypeFor(l) is not { } t) return null;
        type = t;
        int rowBytes = (int)DTypes.RowBytes(t, l.Cols), blockBytes = DTypes.BlockBytes(t);
        var bytes = new byte[(long)rowBytes * l.Rows];
        float[] exact = l.Dequantize();
        var decoded = new float[l.Cols];
        for (int o = 0; o < l.Rows; o++)
        {
            for (int b = 0; b < l.Cols / 32; b++)
            {
                int g = l.GroupOf[b * 32] * l.Rows + o;
                float s = l.Scales[g];
                int z = l.Zeros[g];
                Span<byte> blk = bytes.AsSpan(o * rowBytes + b * blockBytes, blockBytes);
                ReadOnlySpan<byte> q = l.Codes.AsSpan(o * l.Cols + b * 32, 32);
                BinaryPrimitives.WriteHalfLittleEndian(blk, (Half)s);
                switch (t)
                {
                    case DType.Q8_0:
                        for (int j = 0; j < 32; j++) blk[2 + j] = (byte)(sbyte)(q[j] - 128);
                        break;
                    case DType.Q4_0:
                        for (int j = 0; j < 16; j++) blk[2 + j] = (byte)(q[j] | (q[j + 16] << 4));
                        break;
                    default: // Q4_1: d, m, then the nibbles
                        BinaryPrimitives.WriteHalfLittleEndian(blk[2..], (Half)(-s * z));
                        for (int j = 0; j < 16; j++) blk[4 + j] = (byte)(q[j] | (q[j + 16] << 4));
                        break;
                }
            }
            Furnace.Tensors.Dequantize.Bytes(decoded, bytes.AsSpan(o * rowBytes, rowBytes), t);
            ReadOnlySpan<float> want = exact.AsSpan(o * l.Cols, l.Cols);
            for (int i = 0; i < l.Cols; i++)
                if (decoded[i] != want[i]) return null;
        }
        return bytes;
    }
}
