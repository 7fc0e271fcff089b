// One GPTQ or AWQ quantized linear of a Hugging Face checkpoint, unpacked to its integer codes, zero points and
// scales, and dequantized exactly to f32: W[o, i] = scale[g(i), o] · (q[o, i] − zero[g(i), o]).
// Layouts mirror the public packers:
//   GPTQ (AutoGPTQ qlinear_cuda_old / qlinear_exllama pack(), GPTQModel): qweight int32 (in·bits/32, out), codes packed
//     along the INPUT dimension, input row i in word i / (32/bits) at bit bits·(i mod 32/bits); qzeros int32
//     (groups, out·bits/32) packed the same way along the output dimension, v1 ("gptq") storing zero − 1;
//     scales f16 (groups, out); g_idx int32 (in,) the group of each input column (i / group_size without act-order).
//   AWQ GEMM (AutoAWQ awq/modules/linear/gemm.py, awq/utils/packing_utils.py): qweight int32 (in, out/8), 4-bit codes
//     packed along the OUTPUT dimension, nibble k of word c holding output column 8c + [0,2,4,6,1,3,5,7][k]; qzeros
//     int32 (groups, out/8) likewise; scales f16 (groups, out); g(i) = i / group_size; no zero offset.
// The product is computed in f32 from the f16 scale and the small integer q − zero, so it is exact (an 11-bit
// significand times an integer below 2^9 fits f32's 24 bits): the values are the checkpoint's, not an approximation.
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Formats.Quantized;

public sealed class QuantizedLinear
{
    // AWQ's pack order: nibble k of a word holds output column AwqOrder[k] of its 8 (awq/utils/packing_utils.py AWQ_ORDER)
    private static readonly int[] AwqOrder = [0, 2, 4, 6, 1, 3, 5, 7];

    private QuantizedLinear(int rows, int cols, int bits, int groups, byte[] codes, int[] zeros, float[] scales, int[] groupOf)
    {
        Rows = rows;
        Cols = cols;
        Bits = bits;
        Groups = groups;
        Codes = codes;
        Zeros = zeros;
        Scales = scales;
        GroupOf = groupOf;
    }

    /// <summary>out_features: rows of the (out, in) weight.</summary>
    public int Rows { get; }

    /// <summary>in_features.</summary>
    public int Cols { get; }

    public int Bits { get; }

    public int Groups { get; }

    /// <summary>(Rows, Cols) unsigned codes q, row-major (transposed from the checkpoint's packing).</summary>
    public byte[] Codes { get; }

    /// <summary>(Groups, Rows) zero points, the v1 offset already added.</summary>
    public int[] Zeros { get; }

    /// <summary>(Groups, Rows) scales, the checkpoint's f16 values widened to f32.</summary>
    public float[] Scales { get; }

    /// <summary>(Cols,) group of each input column.</summary>
    public int[] GroupOf { get; }

    /// <summary>
    /// The quantized linear under <paramref name="module"/> (a loader prefixed with e.g. "model.layers.0.self_attn.q_proj"),
    /// or null when the module holds a plain "weight" instead (a module the quantizer skipped). Every tensor is checked:
    /// missing, wrong shape or dtype, a g_idx outside the groups: one line naming the tensor.
    /// </summary>
    public static QuantizedLinear? TryLoad(WeightLoader module, HfQuantization q, int rows, int cols)
    {
        if (module.ShapeOf("qweight") == null)
        {
            if (module.Contains("weight")) return null;
            throw new FurnaceFormatException(module.SourcePath, $"missing tensor '{module.Key("qweight")}' (nor is there a '{module.Key("weight")}')");
        }
        return q.Method == HfQuantMethod.Gptq ? LoadGptq(module, q, rows, cols) : LoadAwq(module, q, rows, cols);
    }

    private static QuantizedLinear LoadGptq(WeightLoader m, HfQuantization q, int rows, int cols)
    {
        int bits = q.Bits, perWord = 32 / bits, mask = (1 << bits) - 1;
        int groups = q.Groups(cols);
        if (cols % perWord != 0 || rows % perWord != 0)
            throw new FurnaceFormatException(m.SourcePath, $"tensor '{m.Key("qweight")}': ({rows}, {cols}) does not pack into int32 words of {perWord} {bits}-bit codes");
        int[] qweight = m.Int32s("qweight", cols / perWord, rows);           // (in / perWord, out)
        int[] qzeros = m.Int32s("qzeros", groups, rows / perWord);           // (groups, out / perWord)
        float[] scales = m.Floats("scales", groups, rows);                   // (groups, out)
        int[] groupOf;
        if (m.ShapeOf("g_idx") != null)
        {
            groupOf = m.Int32s("g_idx", cols);
            for (int i = 0; i < cols; i++)
                if ((uint)groupOf[i] >= (uint)groups)
                    throw new FurnaceFormatException(m.SourcePath, $"tensor '{m.Key("g_idx")}' puts input column {i} in group {groupOf[i]}, outside 0..{groups - 1}");
        }
        else
        {
            if (q.DescAct) throw new FurnaceFormatException(m.SourcePath, $"missing tensor '{m.Key("g_idx")}' (desc_act is true)");
            groupOf = new int[cols];
            for (int i = 0; i < cols; i++) groupOf[i] = q.GroupSize is { } g ? i / g : 0;
        }

        var codes = new byte[(long)rows * cols];
        for (int i = 0; i < cols; i++)
        {
            int shift = bits * (i % perWord);
            int word = i / perWord * rows;
            for (int o = 0; o < rows; o++) codes[(long)o * cols + i] = (byte)((qweight[word + o] >>> shift) & mask);
        }
        var zeros = new int[groups * rows];
        for (int g = 0; g < groups; g++)
            for (int o = 0; o < rows; o++)
                zeros[g * rows + o] = ((qzeros[g * (rows / perWord) + o / perWord] >>> (bits * (o % perWord))) & mask) + q.ZeroOffset;
        return new QuantizedLinear(rows, cols, bits, groups, codes, zeros, scales, groupOf);
    }

    private static QuantizedLinear LoadAwq(WeightLoader m, HfQuantization q, int rows, int cols)
    {
        int group = q.GroupSize!.Value;
        if (cols % group != 0) throw new FurnaceFormatException(m.SourcePath, $"tensor '{m.Key("qweight")}': in_features {cols} is not a multiple of group_size {group}");
        if (rows % 8 != 0) throw new FurnaceFormatException(m.SourcePath, $"tensor '{m.Key("qweight")}': out_features {rows} does not pack into int32 words of 8 4-bit codes");
        int groups = cols / group, words = rows / 8;
        int[] qweight = m.Int32s("qweight", cols, words);   // (in, out / 8)
        int[] qzeros = m.Int32s("qzeros", groups, words);   // (groups, out / 8)
        float[] scales = m.Floats("scales", groups, rows);  // (groups, out)
        var codes = new byte[(long)rows * cols];
        for (int i = 0; i < cols; i++)
            for (int c = 0; c < words; c++)
            {
                int w = qweight[i * words + c];
                for (int k = 0; k < 8; k++) codes[(long)(c * 8 + AwqOrder[k]) * cols + i] = (byte)((w >>> (4 * k)) & 0xF);
            }
        var zeros = new int[groups * rows];
        for (int g = 0; g < groups; g++)
            for (int c = 0; c < words; c++)
            {
                int w = qzeros[g * words + c];
                for (int k = 0; k < 8; k++) zeros[g * rows + c * 8 + AwqOrder[k]] = (w >>> (4 * k)) & 0xF;
            }
        var groupOf = new int[cols];
        for (int i = 0; i < cols; i++) groupOf[i] = i / group;
        return new QuantizedLinear(rows, cols, 4, groups, codes, zeros, scales, groupOf);
    }

    /// <summary>The exact f32 weight (Rows, Cols), row-major: scale · (q − zero) per element.</summary>
    public float[] Dequantize()
    {
        var w = new float[(long)Rows * Cols];
        for (int o = 0; o < Rows; o++)
        {
            long row = (long)o * Cols;
            for (int i = 0; i < Cols; i++)
            {
                int g = GroupOf[i] * Rows + o;
                w[row + i] = Scales[g] * (Codes[row + i] - Zeros[g]);
            }
        }
        return w;
    }

    /// <summary>
    /// The weight as a matrix the kernels read, owned by <paramref name="owner"/>: with <paramref name="form"/> Lossless the
    /// exact block type when there is one (LosslessBlocks), else f32; with F32 always f32. Either holds the same values.
    /// </summary>
    public WeightMatrix ToMatrix(PackedWeights owner, HfQuantizedForm form)
    {
        NativeBuffer buf;
        DType type = DType.F32;
        if (form == HfQuantizedForm.Lossless && LosslessBlocks.TryEncode(this, out type) is { } blocks)
        {
            buf = NativeBuffer.ForOverwrite(blocks.Length);
            blocks.CopyTo(buf.Bytes);
        }
        else
        {
            type = DType.F32;
            float[] w = Dequantize();
            buf = NativeBuffer.ForOverwrite(w.LongLength * 4);
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.AsSpan()).CopyTo(buf.Bytes);
        }
        WeightMatrix m = buf.AsMatrix(Rows, Cols, type);
        if (!Repack.Supports(type))
        {
            owner.Adopt(buf);
            return m;
        }
        WeightMatrix packed = owner.Add(m); // an Interleaved8 copy; the row-major one is no longer needed
        buf.Dispose();
        return packed;
    }
}
