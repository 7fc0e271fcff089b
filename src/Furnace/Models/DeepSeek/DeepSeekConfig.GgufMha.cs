// DeepSeekConfig of a plain-attention DeepSeekMoE file: llama.cpp's architecture "deepseek" (LLM_ARCH_DEEPSEEK, the
// GGUF of DeepSeek-MoE-16B as convert_hf_to_gguf.py's DeepseekModel writes it). Llama's attention keys plus
// leading_dense_block_count and the expert_* keys; the graph (src/models/deepseek.cpp) always routes by softmax,
// never renormalises the top-k weights, always adds the shared experts and rotates adjacent pairs (rope type NORM on
// q/k rows permuted by the converter), so those are fixed here rather than read.
using Furnace.Formats.Gguf;

namespace Furnace.Models.DeepSeek;

public sealed partial record DeepSeekConfig
{
    public const string MhaArch = "deepseek";

    private static DeepSeekConfig FromGgufMha(GgufFile f)
    {
        const string a = MhaArch;
        long? Opt(string key) => f.GetInt($"{a}.{key}");
        int Int(string key)
        {
            long v = Opt(key) ?? throw new FurnaceFormatException(f.Path, $"missing metadata '{a}.{key}'");
            if (v < 0 || v > int.MaxValue) throw new FurnaceFormatException(f.Path, $"metadata '{a}.{key}' = {v} is out of range");
            return (int)v;
        }
        float Float(string key, float dflt) => (float)(f.GetFloat($"{a}.{key}") ?? dflt);

        int dim = Int("embedding_length"), heads = Int("attention.head_count");
        if (heads == 0 || dim % heads != 0) throw new FurnaceFormatException(f.Path, $"metadata '{a}.attention.head_count' = {heads} does not divide the embedding length {dim}");
        int headDim = (int)(Opt("attention.key_length") ?? dim / heads);
        if ((Opt("attention.value_length") ?? headDim) != headDim)
            throw new FurnaceFormatException(f.Path, $"metadata '{a}.attention.value_length' differs from the key length {headDim}");
        if ((Opt("rope.dimension_count") ?? headDim) != headDim)
            throw new FurnaceFormatException(f.Path, $"metadata '{a}.rope.dimension_count' = {Opt("rope.dimension_count")}: only RoPE over the whole head ({headDim}) is supported");
        string? scaling = f.GetString($"{a}.rope.scaling.type");
        if (scaling is not (null or "none"))
            throw new FurnaceFormatException(f.Path, $"rope scaling type '{scaling}' is not supported for {a} (none)");

        var tokEmb = f.FindTensor("token_embd.weight") ?? throw new FurnaceFormatException(f.Path, "missing tensor 'token_embd.weight'");
        return new DeepSeekConfig
        {
            Dim = dim,
            Layers = Int("block_count"),
            Heads = heads,
            KvHeads = (int)(Opt("attention.head_count_kv") ?? heads),
            VocabSize = tokEmb.Shape.Length == 2 ? (int)tokEmb.Shape[1] : Int("vocab_size"),
            MaxPositions = Int("context_length"),
            Mla = false,
            KvLoraRank = 0,
            QkNopeDim = 0,
            QkRopeDim = headDim,
            VHeadDim = headDim,
            FfnDim = (int)(Opt("feed_forward_length") ?? 0),
            LeadingDenseLayers = (int)(Opt("leading_dense_block_count") ?? 0),
            Experts = (int)(Opt("expert_count") ?? 0),
            ExpertsUsed = (int)(Opt("expert_used_count") ?? 0),
            SharedExperts = (int)(Opt("expert_shared_count") ?? 0),
            ExpertFfnDim = (int)(Opt("expert_feed_forward_length") ?? 0),
            ExpertWeightsScale = Float("expert_weights_scale", 0f),
            Gating = ExpertGating.Softmax,
            RmsEps = Float("attention.layer_norm_rms_epsilon", 1e-6f),
            RopeTheta = Float("rope.freq_base", 10000f),
            TiedEmbeddings = f.FindTensor("output.weight") == null,
        }.Validated(f.Path);
    }

    /// <summary>
    /// Writes the "deepseek.*" hyper-parameters as llama.cpp's DeepseekModel converter does. The routing llama.cpp
    /// runs for this architecture is fixed (softmax, no renormalisation, no groups, shared experts present), so a
    /// config that routes otherwise fails here instead of giving a file llama.cpp would run differently.
    /// </summary>
    public void WriteGgufMha(GgufWriter w, string name)
    {
        const string a = MhaArch;
        if (Mla) throw new InvalidOperationException("an MLA config is written as deepseek2");
        string? why = Gating != ExpertGating.Softmax ? "sigmoid routing"
            : ExpertWeightsNorm ? "normalised top-k weights (norm_topk_prob)"
            : ExpertGroups > 1 ? "group-limited routing"
            : SharedExperts == 0 && LeadingDenseLayers < Layers ? "no shared experts"
            : null;
        if (why != null) throw new FurnaceException($"{name}: llama.cpp's '{a}' architecture cannot express {why}; this model has no GGUF form llama.cpp runs alike");
        w.Add("general.architecture", a)
         .Add("general.name", name)
         .Add($"{a}.context_length", (uint)MaxPositions)
         .Add($"{a}.embedding_length", (uint)Dim)
         .Add($"{a}.block_count", (uint)Layers)
         .Add($"{a}.feed_forward_length", (uint)FfnDim)
         .Add($"{a}.attention.head_count", (uint)Heads)
         .Add($"{a}.attention.head_count_kv", (uint)KvHeads)
         .Add($"{a}.attention.layer_norm_rms_epsilon", RmsEps)
         .Add($"{a}.rope.freq_base", RopeTheta)
         .Add($"{a}.rope.dimension_count", (uint)QkHeadDim)
         .Add($"{a}.rope.scaling.type", "none")
         .Add($"{a}.vocab_size", (uint)VocabSize)
         .Add($"{a}.leading_dense_block_count", (uint)LeadingDenseLayers)
         .Add($"{a}.expert_count", (uint)Experts)
         .Add($"{a}.expert_used_count", (uint)ExpertsUsed)
         .Add($"{a}.expert_shared_count", (uint)SharedExperts)
         .Add($"{a}.expert_feed_forward_length", (uint)ExpertFfnDim)
         .Add($"{a}.expert_weights_scale", ExpertWeightsScale == 0f ? 1f : ExpertWeightsScale);
    }
}
