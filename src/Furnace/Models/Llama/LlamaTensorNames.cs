// The tensors of a Llama-family checkpoint as Hugging Face names them, with llama.cpp's GGUF names and
// shapes (outermost first). Used by the HF -> GGUF converter and the random-weight checkpoint writer.
namespace Furnace.Models.Llama;

public enum RowPermutation
{
    None,
    QueryHeads, // llama.cpp's permute(w, n_head, n_head)
    KeyHeads,   // permute(w, n_head, n_head_kv)
}

public sealed record LlamaTensorName(string Hf, string Gguf, long[] Shape, RowPermutation Permutation);

public static class LlamaTensorNames
{
    public static IEnumerable<LlamaTensorName> All(LlamaConfig c)
    {
        // llama.cpp permutes Q/K rows for its interleaved rope only on the llama arch; qwen2 uses NEOX rope as is.
        bool permute = c.Architecture == "llama";
        var qp = permute ? RowPermutation.QueryHeads : RowPermutation.None;
        var kp = permute ? RowPermutation.KeyHeads : RowPermutation.None;
        yield return new("model.embed_tokens.weight", "token_embd.weight", [c.VocabSize, c.Dim], RowPermutation.None);
        for (int i = 0; i < c.Layers; i++)
        {
            string h = $"model.layers.{i}.", g = $"blk.{i}.";
            yield return new(h + "input_layernorm.weight", g + "attn_norm.weight", [c.Dim], RowPermutation.None);
            yield return new(h + "self_attn.q_proj.weight", g + "attn_q.weight", [c.QDim, c.Dim], qp);
            yield return new(h + "self_attn.k_proj.weight", g + "attn_k.weight", [c.KvDim, c.Dim], kp);
            yield return new(h + "self_attn.v_proj.weight", g + "attn_v.weight", [c.KvDim, c.Dim], RowPermutation.None);
            yield return new(h + "self_attn.o_proj.weight", g + "attn_output.weight", [c.Dim, c.QDim], RowPermutation.None);
            if (c.AttentionBias)
            {
                yield return new(h + "self_attn.q_proj.bias", g + "attn_q.bias", [c.QDim], qp);
                yield return new(h + "self_attn.k_proj.bias", g + "attn_k.bias", [c.KvDim], kp);
                yield return new(h + "self_attn.v_proj.bias", g + "attn_v.bias", [c.KvDim], RowPermutation.None);
            }
            yield return new(h + "post_attention_layernorm.weight", g + "ffn_norm.weight", [c.Dim], RowPermutation.None);
            yield return new(h + "mlp.gate_proj.weight", g + "ffn_gate.weight", [c.FfnDim, c.Dim], RowPermutation.None);
            yield return new(h + "mlp.up_proj.weight", g + "ffn_up.weight", [c.FfnDim, c.Dim], RowPermutation.None);
            yield return new(h + "mlp.down_proj.weight", g + "ffn_down.weight", [c.Dim, c.FfnDim], RowPermutation.None);
        }
        yield return new("model.norm.weight", "output_norm.weight", [c.Dim], RowPermutation.None);
        if (!c.TiedEmbeddings) yield return new("lm_head.weight", "output.weight", [c.VocabSize, c.Dim], RowPermutation.None);
    }

    /// <summary>
    /// HF row order (rotate_half pairs (i, i+d/2)) -> llama.cpp row order (adjacent pairs), as convert_hf_to_gguf.py:
    /// w.reshape(heads, 2, rows/heads/2, cols).swapaxes(1, 2).reshape(rows, cols). Works for 1-D biases (cols = 1).
    /// </summary>
    public static float[] PermuteRows(float[] w, int rows, int heads)
    {
        var dst = new float[w.Length];
        PermuteRows<float>(w, dst, rows, heads);
        return dst;
    }

    /// <summary>
    /// As PermuteRows, for rows of any element (the bytes of encoded block rows: T = byte, w = rows × RowBytes);
    /// <paramref name="inverse"/>: llama.cpp row order back to HF's.
    /// </summary>
    public static void PermuteRows<T>(ReadOnlySpan<T> w, Span<T> dst, int rows, int heads, bool inverse = false)
    {
        int cols = w.Length / rows, headDim = rows / heads, half = headDim / 2;
        for (int h = 0; h < heads; h++)
        {
            for (int j = 0; j < 2; j++)
            {
                for (int i = 0; i < half; i++)
                {
                    int src = h * headDim + j * half + i, to = h * headDim + 2 * i + j;
                    if (inverse) (src, to) = (to, src);
                    w.Slice(src * cols, cols).CopyTo(dst.Slice(to * cols, cols));
                }
            }
        }
    }
}
