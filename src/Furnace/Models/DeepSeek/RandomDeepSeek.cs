// Seeded random-weight deepseek2 GGUF files in the real layout (llama.cpp's tensor names and ggml shapes for the
// absorbed MLA form: attn_kv_a_mqa, attn_k_b / attn_v_b per head, ffn_*_exps stacks, ffn_*_shexp, exp_probs_b),
// for tests against llama.cpp and for benchmarks at real shapes. Every tensor is a pure function of (seed, name), and
// WriteHuggingFace writes the same model as a DeepseekV2/V3ForCausalLM directory (kv_b_proj assembled from k_b / v_b
// as llama.cpp's converter splits it, experts one tensor each).
using Furnace.Formats.Gguf;
using Furnace.Formats.SafeTensors;
using Furnace.IO;
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
            if (!c.Mla)
            {
                // plain attention (llama.cpp arch deepseek): q/k rows in llama.cpp's permuted order
                yield return new(p + "attn_k.weight", [dim, (long)c.KvHeads * c.QkHeadDim]);
                yield return new(p + "attn_v.weight", [dim, (long)c.KvHeads * c.QkHeadDim]);
            }
            else
            {
                yield return new(p + "attn_kv_a_mqa.weight", [dim, c.CacheRowDim]);
                yield return new(p + "attn_kv_a_norm.weight", [c.KvLoraRank]);
                if (legacyKvB) yield return new(p + "attn_kv_b.weight", [c.KvLoraRank, h * (c.QkNopeDim + c.VHeadDim)]);
                else
                {
                    yield return new(p + "attn_k_b.weight", [c.QkNopeDim, c.KvLoraRank, h]);
                    yield return new(p + "attn_v_b.weight", [c.KvLoraRank, c.VHeadDim, h]);
                }
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
        if (c.Mla) c.WriteGguf(w, name, mla: !legacyKvB);
        else c.WriteGgufMha(w, name);
        w.Add("general.file_type", GgufFileType.OfSingleType(type));
        foreach (var (k, v) in tokenizerMetadata ?? RandomLlama.SyntheticVocab(c.VocabSize)) w.Add(k, v);
        foreach (TensorSpec t in Tensors(c, selectionBias, legacyKvB))
        {
            var spec = t;
            AddTensor(w, spec, type, () => Values(spec, seed));
        }
        amend?.Invoke(w); // tests: files with a key missing or wrong
        w.Write(path);
    }

    /// <summary>
    /// Adds one tensor of the GGUF layout: a matrix whose rows fit type's blocks in type; the router, norms, biases and
    /// matrices with other row lengths in f32 (as llama.cpp's quantizer leaves them). values is called when the writer
    /// reaches the tensor, so one tensor's floats are in memory at a time.
    /// </summary>
    internal static void AddTensor(GgufWriter w, TensorSpec t, DType type, Func<float[]> values)
    {
        int cols = (int)t.Ne[0];
        long rows = t.Count / cols;
        bool matrix = t.Ne.Length >= 2 && !t.Name.EndsWith("ffn_gate_inp.weight", StringComparison.Ordinal);
        DType tt = matrix && cols % DTypes.BlockSize(type) == 0 ? type : DType.F32;
        w.AddTensor(t.Name, tt, t.Ne, DTypes.RowBytes(tt, cols) * rows, s =>
        {
            float[] v = values();
            var buf = new byte[DTypes.RowBytes(tt, cols)];
            for (long r = 0; r < rows; r++)
            {
                Quantize.Row(buf, v.AsSpan((int)(r * cols), cols), tt);
                s.Write(buf);
            }
        });
    }

    /// <summary>The same model (same seed, same values) as a Hugging Face directory: config.json + model.safetensors (f32).</summary>
    public static void WriteHuggingFace(string dir, DeepSeekConfig c, int seed, bool selectionBias = false, bool plainAsV2 = false)
    {
        Directory.CreateDirectory(dir);
        AtomicFile.Write(Path.Combine(dir, "config.json"), s => WriteHfConfig(s, c, plainAsV2));
        var st = new SafeTensorsWriter();
        foreach (var (name, shape, values) in HfTensors(c, seed, selectionBias)) st.Add(name, shape, values);
        st.Write(Path.Combine(dir, "model.safetensors"));
    }

    /// <summary>
    /// Every tensor of the model under its Hugging Face name (model.*, lm_head.weight) with its shape and values, in
    /// the order WriteHuggingFace stores them (a DeepSeek-VL2 checkpoint holds them under "language.").
    /// </summary>
    public static IEnumerable<(string Name, long[] Shape, float[] Values)> HfTensors(DeepSeekConfig c, int seed, bool selectionBias = false)
    {
        int h = c.Heads, nope = c.QkNopeDim, v = c.VHeadDim, kvLora = c.KvLoraRank;
        float[]? kB = null;
        foreach (TensorSpec t in Tensors(c, selectionBias))
        {
            float[] x = Values(t, seed);
            long[] shape = t.Ne.Reverse().ToArray();
            string n = t.Name;
            if (!n.StartsWith("blk.", StringComparison.Ordinal))
            {
                string hf = n switch
                {
                    "token_embd.weight" => "model.embed_tokens.weight",
                    "output_norm.weight" => "model.norm.weight",
                    "output.weight" => "lm_head.weight",
                    _ => throw new InvalidOperationException(n),
                };
                yield return (hf, shape, x);
                continue;
            }
            int dot = n.IndexOf('.', 4);
            string p = $"model.layers.{n[4..dot]}.", rest = n[(dot + 1)..];
            switch (rest)
            {
                case "attn_q.weight" or "attn_k.weight" when !c.Mla:
                {
                    // HF keeps rotate_half's row order; the GGUF holds llama.cpp's permutation of it
                    var hfRows = new float[x.Length];
                    LlamaTensorNames.PermuteRows<float>(x, hfRows, (int)shape[0], rest == "attn_q.weight" ? c.Heads : c.KvHeads, inverse: true);
                    yield return (p + DeepSeekTensorNames.HfLayerName(rest), shape, hfRows);
                    continue;
                }
                case "attn_k_b.weight":
                    kB = x; // (h, kvLora, nope): joined with v_b below
                    continue;
                case "attn_v_b.weight":
                {
                    // kv_b_proj (h·(nope + v), kvLora): per head W_UK (nope, kvLora) = k_b[h]ᵀ, then W_UV (v, kvLora) = v_b[h]
                    var kv = new float[(long)h * (nope + v) * kvLora];
                    for (int hd = 0; hd < h; hd++)
                    {
                        for (int i = 0; i < nope; i++)
                            for (int r = 0; r < kvLora; r++) kv[((long)hd * (nope + v) + i) * kvLora + r] = kB![((long)hd * kvLora + r) * nope + i];
                        Array.Copy(x, (long)hd * v * kvLora, kv, ((long)hd * (nope + v) + nope) * kvLora, (long)v * kvLora);
                    }
                    yield return (p + "self_attn.kv_b_proj.weight", [h * (nope + v), kvLora], kv);
                    continue;
                }
                case "ffn_gate_exps.weight" or "ffn_up_exps.weight" or "ffn_down_exps.weight":
                {
                    string proj = rest[4..rest.IndexOf('_', 4)] + "_proj";
                    int rows = (int)shape[1], cols = (int)shape[2];
                    for (int e = 0; e < c.Experts; e++)
                        yield return ($"{p}mlp.experts.{e}.{proj}.weight", [rows, cols], x.AsSpan(e * rows * cols, rows * cols).ToArray());
                    continue;
                }
            }
            string name = DeepSeekTensorNames.HfLayerName(rest) ?? throw new InvalidOperationException(n);
            yield return (p + name, shape, x);
        }
    }

    // DeepseekV3Config-style config.json (V2 files have the same keys; topk_method tells the routing)
    private static void WriteHfConfig(Stream s, DeepSeekConfig c, bool plainAsV2)
    {
        using var j = new System.Text.Json.Utf8JsonWriter(s, new System.Text.Json.JsonWriterOptions { Indented = true });
        j.WriteStartObject();
        WriteHfConfigFields(j, c, plainAsV2);
        j.WriteEndObject();
    }

    /// <summary>The fields of the model's config.json into an open JSON object (DeepSeek-VL2 nests them as language_config).</summary>
    /// <param name="plainAsV2">For a plain-attention config: DeepseekV2ForCausalLM with use_mla false (deepseek-vl2-tiny's
    /// language_config) instead of DeepseekForCausalLM (DeepSeek-MoE-16B).</param>
    public static void WriteHfConfigFields(System.Text.Json.Utf8JsonWriter j, DeepSeekConfig c, bool plainAsV2 = false)
    {
        bool v3 = c.Gating == ExpertGating.Sigmoid, moe1 = !c.Mla && !plainAsV2;
        j.WriteStartArray("architectures");
        j.WriteStringValue(moe1 ? "DeepseekForCausalLM" : v3 ? "DeepseekV3ForCausalLM" : "DeepseekV2ForCausalLM");
        j.WriteEndArray();
        j.WriteString("model_type", moe1 ? "deepseek" : v3 ? "deepseek_v3" : "deepseek_v2");
        if (!c.Mla && plainAsV2) j.WriteBoolean("use_mla", false);
        j.WriteNumber("hidden_size", c.Dim);
        j.WriteNumber("num_hidden_layers", c.Layers);
        j.WriteNumber("num_attention_heads", c.Heads);
        j.WriteNumber("num_key_value_heads", c.Mla ? c.Heads : c.KvHeads);
        j.WriteNumber("vocab_size", c.VocabSize);
        j.WriteNumber("max_position_embeddings", c.MaxPositions);
        if (c.QLoraRank > 0) j.WriteNumber("q_lora_rank", c.QLoraRank);
        else j.WriteNull("q_lora_rank");
        if (c.Mla)
        {
            j.WriteNumber("kv_lora_rank", c.KvLoraRank);
            j.WriteNumber("qk_nope_head_dim", c.QkNopeDim);
            j.WriteNumber("qk_rope_head_dim", c.QkRopeDim);
            j.WriteNumber("v_head_dim", c.VHeadDim);
        }
        else j.WriteNull("kv_lora_rank"); // as deepseek-vl2-tiny; DeepseekForCausalLM has no MLA keys at all
        j.WriteNumber("intermediate_size", c.FfnDim);
        j.WriteNumber("moe_intermediate_size", c.ExpertFfnDim);
        j.WriteNumber("n_routed_experts", c.Experts);
        j.WriteNumber("num_experts_per_tok", c.ExpertsUsed);
        j.WriteNumber("n_shared_experts", c.SharedExperts);
        j.WriteNumber("first_k_dense_replace", c.LeadingDenseLayers);
        j.WriteNumber("moe_layer_freq", 1);
        j.WriteNumber("routed_scaling_factor", c.ExpertWeightsScale);
        j.WriteBoolean("norm_topk_prob", c.ExpertWeightsNorm);
        j.WriteString("scoring_func", v3 ? "sigmoid" : "softmax");
        j.WriteString("topk_method", c.ExpertGroups > 1 ? (v3 ? "noaux_tc" : "group_limited_greedy") : "greedy");
        j.WriteNumber("n_group", Math.Max(1, c.ExpertGroups));
        j.WriteNumber("topk_group", Math.Max(1, c.ExpertGroupsUsed));
        j.WriteNumber("rms_norm_eps", c.RmsEps);
        j.WriteNumber("rope_theta", c.RopeTheta);
        if (c.Yarn is { } y)
        {
            j.WriteStartObject("rope_scaling");
            j.WriteString("type", "yarn");
            j.WriteNumber("factor", y.Factor);
            j.WriteNumber("original_max_position_embeddings", y.OriginalContext);
            j.WriteNumber("mscale", y.LogMultiplier);
            j.WriteNumber("mscale_all_dim", y.LogMultiplier);
            j.WriteNumber("beta_fast", y.BetaFast);
            j.WriteNumber("beta_slow", y.BetaSlow);
            j.WriteEndObject();
        }
        j.WriteBoolean("tie_word_embeddings", c.TiedEmbeddings);
        j.WriteString("hidden_act", "silu");
    }
}
