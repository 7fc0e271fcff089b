// The read-only weights of a DeepSeek-V2/V3 decoder, under llama.cpp's deepseek2 tensor names
// (llama_model_deepseek2::load_arch_tensors; LLM_TENSOR_* names in llama-arch.cpp) or transformers'
// DeepseekV2ForCausalLM / DeepseekV3ForCausalLM state dict (LoadHf; the same matrices, experts one tensor each). Matrices stay in the
// memory-mapped GGUF in their stored dtype (2-D ones repacked when a PackedWeights is given); 3-D stacks (experts,
// MLA's per-head k_b / v_b) are viewed in place and sliced per expert / head. Only norms and biases become float[].
// Shapes below are (rows, cols) = (out, in), ggml ne reversed.
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.DeepSeek;

public sealed class DeepSeekLayerWeights
{
    public required float[] AttnNorm { get; init; }        // (dim,)
    public WeightMatrix? Wq { get; init; }                  // (heads·qkHead, dim) without q LoRA
    public WeightMatrix? WqA { get; init; }                 // (qLora, dim)
    public float[]? QANorm { get; init; }                   // (qLora,)
    public WeightMatrix? WqB { get; init; }                 // (heads·qkHead, qLora)
    public WeightMatrix WkvA { get; init; }                 // (kvLora + rope, dim): latent then the shared rope key (MLA only)
    public float[] KvANorm { get; init; } = [];             // (kvLora,)
    public WeightMatrix[] WkB { get; init; } = [];          // [head] W_UK_h^T (kvLora, nope): absorbs q^nope into the latent space
    public WeightMatrix[] WvB { get; init; } = [];          // [head] W_UV_h (vHead, kvLora): latent -> value
    public WeightMatrix? Wk { get; init; }                  // (kvHeads·head, dim) plain attention only
    public WeightMatrix? Wv { get; init; }                  // (kvHeads·head, dim) plain attention only
    public required WeightMatrix Wo { get; init; }          // (dim, heads·vHead)
    public required float[] FfnNorm { get; init; }          // (dim,)

    // dense layers (< leading_dense_block_count)
    public WeightMatrix? WGate { get; init; }               // (ffn, dim)
    public WeightMatrix? WUp { get; init; }                 // (ffn, dim)
    public WeightMatrix? WDown { get; init; }               // (dim, ffn)

    // MoE layers
    public WeightMatrix? Router { get; init; }              // (experts, dim)
    public float[]? ExpProbsBias { get; init; }             // (experts,) V3 selection bias
    public WeightMatrix[]? GateExps { get; init; }          // [expert] (expFfn, dim)
    public WeightMatrix[]? UpExps { get; init; }            // [expert] (expFfn, dim)
    public WeightMatrix[]? DownExps { get; init; }          // [expert] (dim, expFfn)
    public WeightMatrix? GateShexp { get; init; }           // (shared·expFfn, dim)
    public WeightMatrix? UpShexp { get; init; }             // (shared·expFfn, dim)
    public WeightMatrix? DownShexp { get; init; }           // (dim, shared·expFfn)
}

public sealed class DeepSeekWeights
{
    public required WeightMatrix TokenEmbedding { get; init; } // (vocab, dim)
    public required DeepSeekLayerWeights[] Layers { get; init; }
    public required float[] OutputNorm { get; init; }          // (dim,)
    public required WeightMatrix Output { get; init; }         // (vocab, dim); the embedding when tied

    /// <summary>Buffers made at load (the transposed W_UK of pre-MLA files); the model disposes them.</summary>
    public IReadOnlyList<NativeBuffer> Owned { get; init; } = [];

    private static WeightMatrix Mat(WeightLoader vb, string name, int rows, int cols, PackedWeights? packed) =>
        packed != null ? vb.PackedMatrix(name, rows, cols, packed) : vb.Matrix(name, rows, cols);

    // the count matrices of a 3-D stack (count, rows, cols): repacked one by one, or slices in place
    private static WeightMatrix[] Stack(WeightLoader vb, string name, int count, int rows, int cols, PackedWeights? packed) =>
        packed != null ? vb.PackedStack(name, count, rows, cols, packed) : Heads(vb.StackedMatrix(name, count, rows, cols), count, 0, rows, rows);

    /// <summary>Fetches every tensor with the shape the config implies; a missing one or a wrong shape fails naming the tensor and both shapes.</summary>
    public static DeepSeekWeights Load(WeightLoader vb, DeepSeekConfig c, PackedWeights? packed = null) =>
        WithOwned(owned => LoadGguf(vb, c, packed, owned));

    // runs a loader that may make buffers of its own; they are disposed if it fails part-way
    private static DeepSeekWeights WithOwned(Func<List<NativeBuffer>, DeepSeekWeights> load)
    {
        var owned = new List<NativeBuffer>();
        try
        {
            return load(owned);
        }
        catch
        {
            foreach (NativeBuffer b in owned) b.Dispose();
            throw;
        }
    }

    private static DeepSeekWeights LoadGguf(WeightLoader vb, DeepSeekConfig c, PackedWeights? packed, List<NativeBuffer> owned)
    {
        // files converted before llama.cpp's MLA support (2025-04) hold one attn_kv_b per layer instead of attn_k_b / attn_v_b
        bool legacy = !vb.Contains("blk.0.attn_k_b.weight") && vb.Contains("blk.0.attn_kv_b.weight");
        int dim = c.Dim, h = c.Heads;
        var layers = new DeepSeekLayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            var b = vb.Prefix($"blk.{i}");
            bool moe = c.IsMoeLayer(i);
            int sh = c.ExpertFfnDim * c.SharedExperts;
            layers[i] = new DeepSeekLayerWeights
            {
                AttnNorm = b.Vector("attn_norm.weight", dim),
                Wq = c.QLoraRank == 0 ? Mat(b, "attn_q.weight", h * c.QkHeadDim, dim, packed) : null,
                WqA = c.QLoraRank > 0 ? Mat(b, "attn_q_a.weight", c.QLoraRank, dim, packed) : null,
                QANorm = c.QLoraRank > 0 ? b.Vector("attn_q_a_norm.weight", c.QLoraRank) : null,
                WqB = c.QLoraRank > 0 ? Mat(b, "attn_q_b.weight", h * c.QkHeadDim, c.QLoraRank, packed) : null,
                WkvA = c.Mla ? Mat(b, "attn_kv_a_mqa.weight", c.CacheRowDim, dim, packed) : default,
                KvANorm = c.Mla ? b.Vector("attn_kv_a_norm.weight", c.KvLoraRank) : [],
                WkB = !c.Mla ? [] : legacy ? LegacyKeyHeads(b, "attn_kv_b.weight", c, owned) : Stack(b, "attn_k_b.weight", h, c.KvLoraRank, c.QkNopeDim, packed),
                WvB = !c.Mla ? [] : legacy
                    ? Heads(b.Matrix("attn_kv_b.weight", h * (c.QkNopeDim + c.VHeadDim), c.KvLoraRank), h, c.QkNopeDim, c.QkNopeDim + c.VHeadDim, c.VHeadDim)
                    : Stack(b, "attn_v_b.weight", h, c.VHeadDim, c.KvLoraRank, packed),
                Wk = c.Mla ? null : Mat(b, "attn_k.weight", c.KvHeads * c.QkHeadDim, dim, packed),
                Wv = c.Mla ? null : Mat(b, "attn_v.weight", c.KvHeads * c.QkHeadDim, dim, packed),
                Wo = Mat(b, "attn_output.weight", dim, h * c.VHeadDim, packed),
                FfnNorm = b.Vector("ffn_norm.weight", dim),
                WGate = moe ? null : Mat(b, "ffn_gate.weight", c.FfnDim, dim, packed),
                WUp = moe ? null : Mat(b, "ffn_up.weight", c.FfnDim, dim, packed),
                WDown = moe ? null : Mat(b, "ffn_down.weight", dim, c.FfnDim, packed),
                Router = moe ? b.Matrix("ffn_gate_inp.weight", c.Experts, dim) : null,
                ExpProbsBias = moe ? b.OptionalVector("exp_probs_b.bias", c.Experts) : null,
                GateExps = moe ? Stack(b, "ffn_gate_exps.weight", c.Experts, c.ExpertFfnDim, dim, packed) : null,
                UpExps = moe ? Stack(b, "ffn_up_exps.weight", c.Experts, c.ExpertFfnDim, dim, packed) : null,
                DownExps = moe ? Stack(b, "ffn_down_exps.weight", c.Experts, dim, c.ExpertFfnDim, packed) : null,
                GateShexp = moe && sh > 0 ? Mat(b, "ffn_gate_shexp.weight", sh, dim, packed) : null,
                UpShexp = moe && sh > 0 ? Mat(b, "ffn_up_shexp.weight", sh, dim, packed) : null,
                DownShexp = moe && sh > 0 ? Mat(b, "ffn_down_shexp.weight", dim, sh, packed) : null,
            };
        }
        return new DeepSeekWeights
        {
            TokenEmbedding = vb.Matrix("token_embd.weight", c.VocabSize, dim),
            Layers = layers,
            OutputNorm = vb.Vector("output_norm.weight", dim),
            Output = Mat(vb, vb.Contains("output.weight") ? "output.weight" : "token_embd.weight", c.VocabSize, dim, packed),
            Owned = owned,
        };
    }

    /// <summary>The weights of a Hugging Face DeepseekV2/V3ForCausalLM checkpoint (safetensors), with the same shape checks.</summary>
    public static DeepSeekWeights LoadHf(WeightLoader root, DeepSeekConfig c, PackedWeights? packed = null) =>
        WithOwned(owned => LoadHf(root, c, packed, owned));

    private static DeepSeekWeights LoadHf(WeightLoader root, DeepSeekConfig c, PackedWeights? packed, List<NativeBuffer> owned)
    {
        var vb = root.Prefix("model");
        int dim = c.Dim, h = c.Heads, sh = c.ExpertFfnDim * c.SharedExperts;
        var layers = new DeepSeekLayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            var b = vb.Prefix($"layers.{i}");
            var attn = b.Prefix("self_attn");
            var mlp = b.Prefix("mlp");
            bool moe = c.IsMoeLayer(i);
            WeightMatrix[] Experts(string proj, int rows, int cols)
            {
                var m = new WeightMatrix[c.Experts];
                for (int e = 0; e < c.Experts; e++) m[e] = Mat(mlp, $"experts.{e}.{proj}.weight", rows, cols, packed);
                return m;
            }
            layers[i] = new DeepSeekLayerWeights
            {
                AttnNorm = b.Vector("input_layernorm.weight", dim),
                Wq = c.QLoraRank == 0 ? Mat(attn, "q_proj.weight", h * c.QkHeadDim, dim, packed) : null,
                WqA = c.QLoraRank > 0 ? Mat(attn, "q_a_proj.weight", c.QLoraRank, dim, packed) : null,
                QANorm = c.QLoraRank > 0 ? attn.Vector("q_a_layernorm.weight", c.QLoraRank) : null,
                WqB = c.QLoraRank > 0 ? Mat(attn, "q_b_proj.weight", h * c.QkHeadDim, c.QLoraRank, packed) : null,
                WkvA = c.Mla ? Mat(attn, "kv_a_proj_with_mqa.weight", c.CacheRowDim, dim, packed) : default,
                KvANorm = c.Mla ? attn.Vector("kv_a_layernorm.weight", c.KvLoraRank) : [],
                WkB = c.Mla ? LegacyKeyHeads(attn, "kv_b_proj.weight", c, owned) : [],
                WvB = c.Mla ? Heads(attn.Matrix("kv_b_proj.weight", h * (c.QkNopeDim + c.VHeadDim), c.KvLoraRank), h, c.QkNopeDim, c.QkNopeDim + c.VHeadDim, c.VHeadDim) : [],
                Wk = c.Mla ? null : Mat(attn, "k_proj.weight", c.KvHeads * c.QkHeadDim, dim, packed),
                Wv = c.Mla ? null : Mat(attn, "v_proj.weight", c.KvHeads * c.QkHeadDim, dim, packed),
                Wo = Mat(attn, "o_proj.weight", dim, h * c.VHeadDim, packed),
                FfnNorm = b.Vector("post_attention_layernorm.weight", dim),
                WGate = moe ? null : Mat(mlp, "gate_proj.weight", c.FfnDim, dim, packed),
                WUp = moe ? null : Mat(mlp, "up_proj.weight", c.FfnDim, dim, packed),
                WDown = moe ? null : Mat(mlp, "down_proj.weight", dim, c.FfnDim, packed),
                Router = moe ? mlp.Matrix("gate.weight", c.Experts, dim) : null,
                ExpProbsBias = moe ? mlp.OptionalVector("gate.e_score_correction_bias", c.Experts) : null,
                GateExps = moe ? Experts("gate_proj", c.ExpertFfnDim, dim) : null,
                UpExps = moe ? Experts("up_proj", c.ExpertFfnDim, dim) : null,
                DownExps = moe ? Experts("down_proj", dim, c.ExpertFfnDim) : null,
                GateShexp = moe && sh > 0 ? Mat(mlp, "shared_experts.gate_proj.weight", sh, dim, packed) : null,
                UpShexp = moe && sh > 0 ? Mat(mlp, "shared_experts.up_proj.weight", sh, dim, packed) : null,
                DownShexp = moe && sh > 0 ? Mat(mlp, "shared_experts.down_proj.weight", dim, sh, packed) : null,
            };
        }
        bool hasHead = root.Contains("lm_head.weight");
        if (!hasHead && !c.TiedEmbeddings)
            throw new FurnaceFormatException(root.SourcePath, "missing tensor 'lm_head.weight' (and tie_word_embeddings is false)");
        return new DeepSeekWeights
        {
            TokenEmbedding = vb.Matrix("embed_tokens.weight", c.VocabSize, dim),
            Layers = layers,
            OutputNorm = vb.Vector("norm.weight", dim),
            Output = hasHead ? Mat(root, "lm_head.weight", c.VocabSize, dim, packed) : Mat(vb, "embed_tokens.weight", c.VocabSize, dim, packed),
            Owned = owned,
        };
    }

    // head h = rows [h·stride + offset, + rows) of a per-head stack
    private static WeightMatrix[] Heads(WeightMatrix stack, int heads, int offset, int stride, int rows)
    {
        var m = new WeightMatrix[heads];
        for (int h = 0; h < heads; h++) m[h] = stack.Slice(h * stride + offset, rows);
        return m;
    }

    // Pre-MLA attn_kv_b (heads·(nope + vHead), kvLora) holds W_UK_h as (nope, kvLora) rows; the absorbed form needs
    // its transpose (kvLora, nope). Made once at load as f32 (the stored values, dequantized: no second rounding).
    // (HF's kv_b_proj has the same layout.)
    private static WeightMatrix[] LegacyKeyHeads(WeightLoader b, string name, DeepSeekConfig c, List<NativeBuffer> owned)
    {
        int h = c.Heads, nope = c.QkNopeDim, kvLora = c.KvLoraRank, stride = nope + c.VHeadDim;
        WeightMatrix kvB = b.Matrix(name, h * stride, kvLora);
        var t = new float[(long)h * kvLora * nope];
        var row = new float[kvLora];
        for (int hd = 0; hd < h; hd++)
        {
            for (int i = 0; i < nope; i++)
            {
                Dequantize.Row(row, kvB, hd * stride + i);
                for (int r = 0; r < kvLora; r++) t[((long)hd * kvLora + r) * nope + i] = row[r];
            }
        }
        var buf = NativeBuffer.FromFloats(t, h * kvLora, nope, DType.F32);
        owned.Add(buf);
        return Heads(buf.AsMatrix(h * kvLora, nope, DType.F32), h, 0, kvLora, kvLora);
    }
}
