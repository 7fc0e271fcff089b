// DeepSeekConfig from and to GGUF metadata: the "deepseek2.*" keys of llama.cpp's LLM_KV names, as
// convert_hf_to_gguf.py's DeepseekV2Model writes them for the absorbed MLA form (head_count_kv = 1,
// key_length = kv_lora_rank + rope, value_length = kv_lora_rank, key_length_mla / value_length_mla = the per-head
// sizes) and as older converters wrote them (head_count_kv = head_count, key_length / value_length per head, attn_kv_b).
using Furnace.Formats.Gguf;

namespace Furnace.Models.DeepSeek;

public sealed partial record DeepSeekConfig
{
    public const string Arch = "deepseek2";

    /// <summary>True when the file's 2-D attention weights are the split attn_k_b / attn_v_b of the absorbed form.</summary>
    public static bool IsMlaFile(GgufFile f) => f.GetInt($"{Arch}.attention.key_length_mla") != null;

    public static DeepSeekConfig FromGguf(GgufFile f)
    {
        string arch = f.Architecture ?? throw new FurnaceFormatException(f.Path, "missing metadata 'general.architecture'");
        if (arch == MhaArch) return FromGgufMha(f);
        if (arch != Arch) throw new FurnaceFormatException(f.Path, $"architecture '{arch}' is not {Arch} or {MhaArch}");

        long? Opt(string key) => f.GetInt($"{Arch}.{key}");
        int Int(string key)
        {
            long v = Opt(key) ?? throw new FurnaceFormatException(f.Path, $"missing metadata '{Arch}.{key}'");
            if (v < 0 || v > int.MaxValue) throw new FurnaceFormatException(f.Path, $"metadata '{Arch}.{key}' = {v} is out of range");
            return (int)v;
        }
        float Float(string key, float dflt) => (float)(f.GetFloat($"{Arch}.{key}") ?? dflt);
        bool Bool(string key) => f.Metadata.TryGetValue($"{Arch}.{key}", out var v) && (v.Value is bool b ? b : v.AsInt64() != 0);

        int heads = Int("attention.head_count");
        int kvLora = Int("attention.kv_lora_rank");
        int rope = Int("rope.dimension_count");
        int qkHead, vHead;
        if (IsMlaFile(f))
        {
            qkHead = Int("attention.key_length_mla");
            vHead = Int("attention.value_length_mla");
            int kvHeads = (int)(Opt("attention.head_count_kv") ?? 1);
            if (kvHeads != 1) throw new FurnaceFormatException(f.Path, $"metadata '{Arch}.attention.head_count_kv' = {kvHeads}, but an MLA file (key_length_mla) has 1");
            long? kl = Opt("attention.key_length"), vl = Opt("attention.value_length");
            if (kl != null && kl != kvLora + rope)
                throw new FurnaceFormatException(f.Path, $"metadata '{Arch}.attention.key_length' = {kl}, expected kv_lora_rank + rope dims = {kvLora + rope}");
            if (vl != null && vl != kvLora)
                throw new FurnaceFormatException(f.Path, $"metadata '{Arch}.attention.value_length' = {vl}, expected kv_lora_rank = {kvLora}");
        }
        else
        {
            qkHead = Int("attention.key_length");
            vHead = Int("attention.value_length");
        }
        if (qkHead <= rope) throw new FurnaceFormatException(f.Path, $"key length {qkHead} must exceed the rope dims {rope}");

        int vocab = f.GetArray<string>("tokenizer.ggml.tokens")?.Length
            ?? (int?)Opt("vocab_size")
            ?? (int)(f.FindTensor("token_embd.weight")?.Shape[^1] ?? throw new FurnaceFormatException(f.Path, "cannot tell the vocabulary size"));
        var tokEmb = f.FindTensor("token_embd.weight");
        if (tokEmb != null && tokEmb.Shape.Length == 2) vocab = (int)tokEmb.Shape[1];

        YarnScaling? yarn = null;
        string? scaling = f.GetString($"{Arch}.rope.scaling.type");
        if (scaling == "yarn")
        {
            float factor = Float("rope.scaling.factor", 1f);
            // llama.cpp's converter writes 0.1·mscale_all_dim (TAG_DEEPSEEK2_YARN_LOG_MUL_FIX); the loader divides it back.
            float logMul = Float("rope.scaling.yarn_log_multiplier", 0f) / 0.1f;
            int orig = (int)(Opt("rope.scaling.original_context_length") ?? Int("context_length"));
            yarn = new YarnScaling(factor, orig, logMul, Float("rope.scaling.attn_factor", 1f),
                Float("rope.scaling.yarn_beta_fast", 32f), Float("rope.scaling.yarn_beta_slow", 1f));
        }
        else if (scaling is not (null or "none"))
            throw new FurnaceFormatException(f.Path, $"rope scaling type '{scaling}' is not supported for {Arch} (none, yarn)");

        int gating = (int)(Opt("expert_gating_func") ?? 0);
        int layers = Int("block_count");
        return new DeepSeekConfig
        {
            Dim = Int("embedding_length"),
            Layers = layers,
            Heads = heads,
            VocabSize = vocab,
            MaxPositions = Int("context_length"),
            QLoraRank = (int)(Opt("attention.q_lora_rank") ?? 0),
            KvLoraRank = kvLora,
            QkNopeDim = qkHead - rope,
            QkRopeDim = rope,
            VHeadDim = vHead,
            FfnDim = (int)(Opt("feed_forward_length") ?? 0),
            LeadingDenseLayers = (int)(Opt("leading_dense_block_count") ?? 0),
            Experts = (int)(Opt("expert_count") ?? 0),
            ExpertsUsed = (int)(Opt("expert_used_count") ?? 0),
            SharedExperts = (int)(Opt("expert_shared_count") ?? 0),
            ExpertFfnDim = (int)(Opt("expert_feed_forward_length") ?? 0),
            ExpertWeightsScale = Float("expert_weights_scale", 0f),
            ExpertWeightsNorm = Bool("expert_weights_norm"),
            // absent: the V2 / V2.5 files written before the key existed, which all use softmax (llama.cpp's default)
            Gating = gating == 0 ? ExpertGating.Softmax : (ExpertGating)gating,
            ExpertGroups = (int)(Opt("expert_group_count") ?? 0),
            ExpertGroupsUsed = (int)(Opt("expert_group_used_count") ?? 0),
            RmsEps = Float("attention.layer_norm_rms_epsilon", 1e-6f),
            RopeTheta = Float("rope.freq_base", 10000f),
            Yarn = yarn,
            TiedEmbeddings = f.FindTensor("output.weight") == null,
        }.Validated(f.Path);
    }

    /// <summary>
    /// Writes the "deepseek2.*" hyper-parameters as the current converter does (the absorbed MLA form), or with
    /// <paramref name="mla"/> false as converters before llama.cpp's MLA support did (per-head key/value lengths).
    /// </summary>
    public void WriteGguf(GgufWriter w, string name, bool mla = true)
    {
        const string a = Arch;
        w.Add("general.architecture", a)
         .Add("general.name", name)
         .Add($"{a}.context_length", (uint)MaxPositions)
         .Add($"{a}.embedding_length", (uint)Dim)
         .Add($"{a}.block_count", (uint)Layers)
         .Add($"{a}.feed_forward_length", (uint)FfnDim)
         .Add($"{a}.attention.head_count", (uint)Heads)
         .Add($"{a}.attention.head_count_kv", mla ? 1u : (uint)Heads)
         .Add($"{a}.attention.layer_norm_rms_epsilon", RmsEps)
         .Add($"{a}.rope.freq_base", RopeTheta)
         .Add($"{a}.rope.dimension_count", (uint)QkRopeDim)
         .Add($"{a}.vocab_size", (uint)VocabSize)
         // llama.cpp reads q_lora_rank unless the layer count is that of V2-Lite (26/27); 0 = plain attn_q
         .Add($"{a}.attention.q_lora_rank", (uint)QLoraRank)
         .Add($"{a}.attention.kv_lora_rank", (uint)KvLoraRank)
         .Add($"{a}.attention.key_length", (uint)(mla ? CacheRowDim : QkHeadDim))
         .Add($"{a}.attention.value_length", (uint)(mla ? KvLoraRank : VHeadDim))
         .Add($"{a}.leading_dense_block_count", (uint)LeadingDenseLayers)
         .Add($"{a}.expert_count", (uint)Experts)
         .Add($"{a}.expert_used_count", (uint)ExpertsUsed)
         .Add($"{a}.expert_shared_count", (uint)SharedExperts)
         .Add($"{a}.expert_feed_forward_length", (uint)ExpertFfnDim)
         .Add($"{a}.expert_weights_scale", ExpertWeightsScale)
         .Add($"{a}.expert_weights_norm", GgufValue.Of(ExpertWeightsNorm))
         .Add($"{a}.expert_gating_func", (uint)Gating);
        if (mla) w.Add($"{a}.attention.key_length_mla", (uint)QkHeadDim).Add($"{a}.attention.value_length_mla", (uint)VHeadDim);
        if (ExpertGroups > 1) w.Add($"{a}.expert_group_count", (uint)ExpertGroups).Add($"{a}.expert_group_used_count", (uint)ExpertGroupsUsed);
        if (Yarn is { } y)
        {
            w.Add($"{a}.rope.scaling.type", "yarn")
             .Add($"{a}.rope.scaling.factor", y.Factor)
             .Add($"{a}.rope.scaling.original_context_length", (uint)y.OriginalContext)
             .Add($"{a}.rope.scaling.yarn_log_multiplier", 0.1f * y.LogMultiplier);
        }
    }
}
