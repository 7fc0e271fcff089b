// Writes a Llama-family model as a GGUF file that llama.cpp loads: hyper-parameters, tokenizer metadata,
// and every tensor under llama.cpp's name, Q/K rows permuted for the llama arch, 2-D weights encoded in the
// requested type (norms and biases stay f32, as llama.cpp's converter keeps them), or, for a weight handed over
// already encoded (a GPTQ / AWQ linear as lossless blocks), in its own type, its rows permuted as whole block rows.
using Furnace.Formats.Gguf;
using Furnace.Tensors;

namespace Furnace.Models.Llama;

public static class LlamaGgufExport
{
    /// <param name="hfTensor">Returns the float values of a tensor by its Hugging Face name (row-major).</param>
    /// <param name="tokenizerMetadata">tokenizer.ggml.* entries (and any other metadata) to include.</param>
    /// <param name="encoded">Returns a pre-encoded 2-D weight by its Hugging Face name (GPTQ, a lossless GPTQ/AWQ block), or null to encode hfTensor's values.</param>
    public static void Write(string path, LlamaConfig c, Func<string, float[]> hfTensor, DType type,
        IEnumerable<KeyValuePair<string, GgufValue>> tokenizerMetadata, string name = "furnace", Func<string, EncodedTensor?>? encoded = null, DType? fileType = null)
    {
        var w = new GgufWriter();
        c.WriteGguf(w, name);
        w.Add("general.file_type", GgufFileType.OfSingleType(fileType ?? type));
        foreach (var (k, v) in tokenizerMetadata) w.Add(k, v);
        foreach (var t in LlamaTensorNames.All(c))
        {
            // 2-D weights in the requested type; rows that don't fill its blocks (a 256-block K-quant with 64-wide rows)
            // take llama-quantize's fallback type
            EncodedTensor? enc = t.Shape.Length == 2 ? encoded?.Invoke(t.Hf) : null;
            DType tt = enc?.Type ?? (t.Shape.Length == 2 ? DTypes.ForRowLength(type, t.Shape[^1]) : DType.F32);
            long[] ggmlShape = t.Shape.Reverse().ToArray();
            var entry = t;
            w.AddTensor(t.Gguf, tt, ggmlShape, DTypes.RowBytes(tt, ggmlShape[0]) * (ggmlShape.Length == 2 ? ggmlShape[1] : 1), s =>
            {
                if (enc != null)
                {
                    WriteEncoded(s, enc, entry, c);
                    return;
                }
                float[] v = hfTensor(entry.Hf);
                long expect = entry.Shape.Aggregate(1L, (a, b) => a * b);
                if (v.LongLength != expect) throw new FurnaceException($"tensor '{entry.Hf}' has {v.LongLength} values, expected {expect}");
                int rows = (int)entry.Shape[0];
                if (entry.Permutation == RowPermutation.QueryHeads) v = LlamaTensorNames.PermuteRows(v, rows, c.Heads);
                else if (entry.Permutation == RowPermutation.KeyHeads) v = LlamaTensorNames.PermuteRows(v, rows, c.KvHeads);
                int cols = (int)(v.LongLength / (entry.Shape.Length == 2 ? rows : 1));
                int nRows = entry.Shape.Length == 2 ? rows : 1;
                var buf = new byte[DTypes.RowBytes(tt, cols)];
                for (int r = 0; r < nRows; r++)
                {
                    Quantize.Row(buf, v.AsSpan(r * cols, cols), tt);
                    s.Write(buf);
                }
            });
        }
        if (c.RopeScaling is { } rs)
        {
            // llama.cpp carries Llama-3 rope scaling as per-pair frequency divisors (convert_hf_to_gguf.py generate_extra_tensors)
            float[] ff = RopeTable.Llama3FreqFactors(c.HeadDim, c.RopeTheta, rs.Factor, rs.LowFreqFactor, rs.HighFreqFactor, rs.OriginalMaxPositions);
            w.AddTensor("rope_freqs.weight", DType.F32, [ff.Length], ff);
        }
        w.Write(path);
    }

    private static void WriteEncoded(Stream s, EncodedTensor enc, LlamaTensorName t, LlamaConfig c)
    {
        byte[] bytes = enc.Bytes();
        int rows = (int)t.Shape[0];
        int rowBytes = (int)DTypes.RowBytes(enc.Type, t.Shape[1]);
        if (bytes.LongLength != (long)rows * rowBytes) throw new FurnaceException($"tensor '{t.Hf}' has {bytes.LongLength} encoded bytes, expected {(long)rows * rowBytes}");
        // the row permutation of Q/K, found by permuting the row indices themselves (one "column" per row)
        float[] order = Enumerable.Range(0, rows).Select(r => (float)r).ToArray();
        if (t.Permutation == RowPermutation.QueryHeads) order = LlamaTensorNames.PermuteRows(order, rows, c.Heads);
        else if (t.Permutation == RowPermutation.KeyHeads) order = LlamaTensorNames.PermuteRows(order, rows, c.KvHeads);
        foreach (float r in order) s.Write(bytes, (int)r * rowBytes, rowBytes);
    }
}
