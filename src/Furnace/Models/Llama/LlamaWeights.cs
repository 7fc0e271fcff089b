// The read-only weights of a Llama-family decoder (llama2.c's TransformerWeights): matrices stay in the
// memory-mapped checkpoint in their stored dtype, or are repacked at load (Q8_0/Q4_0 -> Interleaved8, owned by a
// PackedWeights); only the small 1-D norms and biases are decoded to float.
// The checkpoint key names live here and nowhere else: GGUF (llama.cpp's tensor names) and Hugging Face
// (transformers' LlamaForCausalLM / Qwen2ForCausalLM state dict).
using Furnace.Formats.Weights;
using Furnace.Formats.Quantized;
using Furnace.Tensors;

namespace Furnace.Models.Llama;

public enum CheckpointNaming
{
    Gguf,
    HuggingFace,
}

public sealed class LlamaLayerWeights
{
    public required float[] AttnNorm { get; init; }    // (dim,)
    public required WeightMatrix Wq { get; init; }     // (qDim, dim)
    public required WeightMatrix Wk { get; init; }     // (kvDim, dim)
    public required WeightMatrix Wv { get; init; }     // (kvDim, dim)
    public required WeightMatrix Wo { get; init; }     // (dim, qDim)
    public float[]? Bq { get; init; }                  // (qDim,) Qwen2
    public float[]? Bk { get; init; }                  // (kvDim,)
    public float[]? Bv { get; init; }                  // (kvDim,)
    public required float[] FfnNorm { get; init; }     // (dim,)
    public required WeightMatrix WGate { get; init; }  // (ffn, dim)
    public required WeightMatrix WUp { get; init; }    // (ffn, dim)
    public required WeightMatrix WDown { get; init; }  // (dim, ffn)
}

public sealed class LlamaWeights
{
    public required WeightMatrix TokenEmbedding { get; init; } // (vocab, dim)
    public required LlamaLayerWeights[] Layers { get; init; }
    public required float[] OutputNorm { get; init; }          // (dim,)
    public required WeightMatrix Output { get; init; }         // (vocab, dim); the embedding when tied
    public float[]? RopeFreqFactors { get; init; }             // (rotaryDims/2,) GGUF rope_freqs.weight

    /// <summary>
    /// Fetches the weights; with <paramref name="packed"/>, every Q8_0/Q4_0 matrix the matmuls read is repacked into it
    /// (Interleaved8) except the token embedding, which is read by row lookups (a tied output head gets a packed copy).
    /// </summary>
    public static LlamaWeights Load(WeightLoader vb, LlamaConfig c, CheckpointNaming naming, PackedWeights? packed = null) =>
        naming == CheckpointNaming.Gguf ? LoadGguf(vb, c, packed) : LoadHf(vb, c, packed, null, HfQuantizedForm.Lossless);

    /// <summary>
    /// A GPTQ / AWQ Hugging Face checkpoint: each layer linear stored as qweight/qzeros/scales(/g_idx) is unpacked and
    /// held in <paramref name="form"/> inside <paramref name="packed"/> (a linear stored as a plain weight loads as usual).
    /// </summary>
    public static LlamaWeights LoadQuantizedHf(WeightLoader vb, LlamaConfig c, HfQuantization quant, PackedWeights packed, HfQuantizedForm form) =>
        LoadHf(vb, c, packed, quant, form);

    private static WeightMatrix Mat(WeightLoader vb, string name, int rows, int cols, PackedWeights? packed) =>
        packed != null ? vb.PackedMatrix(name, rows, cols, packed) : vb.Matrix(name, rows, cols);

    private static LlamaWeights LoadGguf(WeightLoader vb, LlamaConfig c, PackedWeights? packed)
    {
        var layers = new LlamaLayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            var b = vb.Prefix($"blk.{i}");
            layers[i] = new LlamaLayerWeights
            {
                AttnNorm = b.Vector("attn_norm.weight", c.Dim),
                Wq = Mat(b, "attn_q.weight", c.QDim, c.Dim, packed),
                Wk = Mat(b, "attn_k.weight", c.KvDim, c.Dim, packed),
                Wv = Mat(b, "attn_v.weight", c.KvDim, c.Dim, packed),
                Wo = Mat(b, "attn_output.weight", c.Dim, c.QDim, packed),
                Bq = b.OptionalVector("attn_q.bias", c.QDim),
                Bk = b.OptionalVector("attn_k.bias", c.KvDim),
                Bv = b.OptionalVector("attn_v.bias", c.KvDim),
                FfnNorm = b.Vector("ffn_norm.weight", c.Dim),
                WGate = Mat(b, "ffn_gate.weight", c.FfnDim, c.Dim, packed),
                WUp = Mat(b, "ffn_up.weight", c.FfnDim, c.Dim, packed),
                WDown = Mat(b, "ffn_down.weight", c.Dim, c.FfnDim, packed),
            };
        }
        var embedding = vb.Matrix("token_embd.weight", c.VocabSize, c.Dim);
        return new LlamaWeights
        {
            TokenEmbedding = embedding,
            Layers = layers,
            OutputNorm = vb.Vector("output_norm.weight", c.Dim),
            Output = Mat(vb, vb.Contains("output.weight") ? "output.weight" : "token_embd.weight", c.VocabSize, c.Dim, packed),
            RopeFreqFactors = vb.OptionalVector("rope_freqs.weight", c.HeadDim / 2),
        };
    }

    // module.weight, or the GPTQ / AWQ tensors under module when the checkpoint is quantized and has them
    private static WeightMatrix Linear(WeightLoader parent, string module, int rows, int cols, PackedWeights? packed, HfQuantization? quant, HfQuantizedForm form)
    {
        if (quant != null && QuantizedLinear.TryLoad(parent.Prefix(module), quant, rows, cols) is { } q)
            return q.ToMatrix(packed ?? throw new InvalidOperationException("quantized checkpoints load into a PackedWeights"), form);
        return Mat(parent, module + ".weight", rows, cols, packed);
    }

    private static LlamaWeights LoadHf(WeightLoader root, LlamaConfig c, PackedWeights? packed, HfQuantization? quant, HfQuantizedForm form)
    {
        var vb = root.Prefix("model");
        var layers = new LlamaLayerWeights[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            var b = vb.Prefix($"layers.{i}");
            var attn = b.Prefix("self_attn");
            var mlp = b.Prefix("mlp");
            bool bias = c.AttentionBias;
            layers[i] = new LlamaLayerWeights
            {
                AttnNorm = b.Vector("input_layernorm.weight", c.Dim),
                Wq = Linear(attn, "q_proj", c.QDim, c.Dim, packed, quant, form),
                Wk = Linear(attn, "k_proj", c.KvDim, c.Dim, packed, quant, form),
                Wv = Linear(attn, "v_proj", c.KvDim, c.Dim, packed, quant, form),
                Wo = Linear(attn, "o_proj", c.Dim, c.QDim, packed, quant, form),
                Bq = bias ? attn.Vector("q_proj.bias", c.QDim) : attn.OptionalVector("q_proj.bias", c.QDim),
                Bk = bias ? attn.Vector("k_proj.bias", c.KvDim) : attn.OptionalVector("k_proj.bias", c.KvDim),
                Bv = bias ? attn.Vector("v_proj.bias", c.KvDim) : attn.OptionalVector("v_proj.bias", c.KvDim),
                FfnNorm = b.Vector("post_attention_layernorm.weight", c.Dim),
                WGate = Linear(mlp, "gate_proj", c.FfnDim, c.Dim, packed, quant, form),
                WUp = Linear(mlp, "up_proj", c.FfnDim, c.Dim, packed, quant, form),
                WDown = Linear(mlp, "down_proj", c.Dim, c.FfnDim, packed, quant, form),
            };
        }
        var embedding = vb.Matrix("embed_tokens.weight", c.VocabSize, c.Dim);
        bool hasHead = root.Contains("lm_head.weight");
        if (!hasHead && !c.TiedEmbeddings)
            throw new FurnaceFormatException(root.SourcePath, "missing tensor 'lm_head.weight' (and tie_word_embeddings is false)");
        return new LlamaWeights
        {
            TokenEmbedding = embedding,
            Layers = layers,
            OutputNorm = vb.Vector("norm.weight", c.Dim),
            Output = hasHead ? Mat(root, "lm_head.weight", c.VocabSize, c.Dim, packed) : Mat(vb, "embed_tokens.weight", c.VocabSize, c.Dim, packed),
        };
    }
}
