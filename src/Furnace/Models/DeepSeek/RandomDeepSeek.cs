// Seeded random-weight deepseek2 GGUF files in the real layout (llama.cpp's tensor names and ggml shapes for the
// absorbed MLA form: attn_kv_a_mqa, attn_k_b / attn_v_b per head, ffn_*_exps stacks, ffn_*_shexp, exp_probs_b),
// for tests against llama.cpp and for benchmarks at real shapes. Every tensor is a pure function of (seed, name).
using Furnace.Formats.Gguf;
using Furnace.Models.Llama;
using Furnace.Tensors;

namespace Furnace.Models.DeepSeek;

public static class RandomDeepSeek
{
    /// <summary>A GGUF tensor: its name and ggml shape (ne0 = the contiguous row length first).</summary>
    public sealed record TensorSpec(string Name, long[] Ne)
    {
        public long Count => Ne.Aggregate(1L, (a, b) => a * b);
    }

    /// <summary>Every tensor of the config under its GGUF name, in llama.cpp's order.</summary>
    /// <param name="legacyKvB">One attn_kv_b per layer (files converted before llama.cpp's MLA support) instead of attn_k_b / attn_v_b.</param>
    public static IEnumerable<TensorSpec> Tensors(DeepSeekConfig c, bool selectionBias, bool legacyKvB = false)
    {
        long dim = c.Dim, h = c.Heads;
        yield return new("token_embd.weight", [dim, c.VocabSize]);
        for (int i = 0; i < c.Layers; i++)
        {
            string p = $"blk.{i}.";
            yield return new(p + "attn_norm.weight", [dim]);
            if (c.QLoraRank > 0)
            {
                yield return new(p + "attn_q_a.weight", [dim, c.QLoraRank]);
                yield return new(p + "attn_q_a_norm.weight", [c.QLoraRank]);
                yield return new(p + "attn_q_b.weight", [c.QLoraRank, h * c.QkHeadDim]);
            }
            else yield return new(p + "attn_q.weight", [dim, h * c.QkHeadDim]);
            yield return new(p + "attn_kv_a_mqa.weight", [dim, c.CacheRowDim]);
            yield return new(p + "attn_kv_a_norm.weight", [c.KvLoraRank]);
            if (legacyKvB) yield return new(p + "attn_kv_b.weight", [c.KvLoraRank, h * (c.QkNopeDim + c.VHeadDim)]);
            else
            {
                yield return new(p + "attn_k_b.weight", [c.QkNopeDim, c.KvLoraRank, h]);
                yield return new(p + "attn_v_b.weight", [c.KvLoraRank, c.VHeadDim, h]);
            }
            yield return new(p + "attn_output.weight", [h * c.VHeadDim, dim]);
            yield return new(p + "ffn_norm.weight", [dim]);
            if (!c.IsMoeLayer(i))
            {
                yield return new(p + "ffn_gate.weight", [dim, c.FfnDim]);
                yield return new(p + "ffn_up.weight", [dim, c.FfnDim]);
                yield return new(p + "ffn_down.weight", [c.FfnDim, dim]);
                continue;
            }
            yield return new(p + "ffn_gate_inp.weight", [dim, c.Experts]);
            if (selectionBias) yield return new(p + "exp_probs_b.bias", [c.Experts]);
            yield return new(p + "ffn_gate_exps.weight", [dim, c.ExpertFfnDim, c.Experts]);
            yield return new(p + "ffn_up_exps.weight", [dim, c.ExpertFfnDim, c.Experts]);
            yield return new(p + "ffn_down_exps.weight", [c.ExpertFfnDim, dim, c.Experts]);
            if (c.SharedExperts > 0)
            {
                long sh = (long)c.ExpertFfnDim * c.SharedExperts;
                yield return new(p + "ffn_gate_shexp.weight", [dim, sh]);
                yield return new(p + "ffn_up_shexp.weight", [dim, sh]);
                yield return new(p + "ffn_down_shexp.weight", [sh, dim]);
            }
        }
        yield return new("output_norm.weight", [dim]);
        if (!c.TiedEmbeddings) yield return new("output.weight", [dim, c.VocabSize]);
    }

    /// <summary>
    /// Values of a tensor: norms 1 ± 0.2, the selection bias ± 0.1, the router ± 2·sqrt(3/dim) (decisive routing),
    /// the embedding ± 1, other matrices ± 0.5·sqrt(3/fan_in).
    /// </summary>
    public static float[] Values(TensorSpec t, int seed)
    {
        string n = t.Name;
        bool norm = n.EndsWith("norm.weight", StringComparison.Ordinal);
        float a = norm ? 0.2f
            : n.EndsWith(".bias", StringComparison.Ordinal) ? 0.1f
            : n == "token_embd.weight" ? 1f
            : n.EndsWith("ffn_gate_inp.weight", StringComparison.Ordinal) ? 2f * MathF.Sqrt(3f / t.Ne[0])
            : 0.5f * MathF.Sqrt(3f / t.Ne[0]);
        return SeededUniform.Values(t.Count, seed, n, norm ? 1f : 0f, a);
    }

    /// <summary>
    /// Writes the model with a synthetic SentencePiece vocabulary. Matrices whose rows fit the type's blocks are stored
    /// as <paramref name="type"/>; the router, norms and biases stay f32 (as llama.cpp's quantizer leaves them).
    /// </summary>
    public static void WriteGguf(string path, DeepSeekConfig c, DType type, int seed, bool selectionBias = false,
        IEnumerable<KeyValuePair<string, GgufValue>>? tokenizerMetadata = null, string name = "furnace-random-deepseek2",
        Action<GgufWriter>? amend = null, bool legacyKvB = false)
    {
        var w = new GgufWriter();
        c.WriteGguf(w, name, mla: !legacyKvB);
        w.Add("general.file_type", (uint)(type switch { DType.F32 => 0, DType.F16 => 1, DType.Q4_0 => 2, DType.Q8_0 => 7, DType.BF16 => 32, _ => 0 }));
        foreach (var (k, v) in tokenizerMetadata ?? RandomLlama.SyntheticVocab(c.VocabSize)) w.Add(k, v);
        foreach (TensorSpec t in Tensors(c, selectionBias, legacyKvB))
        {
            int cols = (int)t.Ne[0];
            long rows = t.Count / cols;
            bool matrix = t.Ne.Length >= 2 && !t.Name.EndsWith("ffn_gate_inp.weight", StringComparison.Ordinal);
            DType tt = matrix && cols % DTypes.BlockSize(type) == 0 ? type : DType.F32;
            var spec = t;
            w.AddTensor(t.Name, tt, t.Ne, DTypes.RowBytes(tt, cols) * rows, s =>
            {
                float[] v = Values(spec, seed);
                var buf = new byte[DTypes.RowBytes(tt, cols)];
                for (long r = 0; r < rows; r++)
                {
                    Quantize.Row(buf, v.AsSpan((int)(r * cols), cols), tt);
                    s.Write(buf);
                }
            });
        }
        amend?.Invoke(w); // tests: files with a key missing or wrong
        w.Write(path);
    }
}
