// DeepSeekConfig from a Hugging Face config.json (transformers' DeepseekV2Config / DeepseekV3Config, the
// deepseek-ai/DeepSeek-V2-Lite and DeepSeek-V3 repositories), with the values llama.cpp's convert_hf_to_gguf.py
// (DeepseekV2Model.set_gguf_parameters) derives from it, so that a directory and its GGUF conversion run alike.
using Furnace.Formats.HfConfig;

namespace Furnace.Models.DeepSeek;

public sealed partial record DeepSeekConfig
{
    /// <summary>
    /// True when config.json names DeepseekV2ForCausalLM / DeepseekV3ForCausalLM / DeepseekForCausalLM (DeepSeek-MoE)
    /// (or model_type deepseek_v2 / deepseek_v3 / deepseek).
    /// </summary>
    public static bool IsHfDeepSeek(HfModelConfig raw) =>
        raw.Architectures is { Length: > 0 } a
            ? a[0] is "DeepseekV2ForCausalLM" or "DeepseekV3ForCausalLM" or "DeepseekForCausalLM"
            : raw.ModelType is "deepseek_v2" or "deepseek_v3" or "deepseek";

    /// <summary>DeepseekForCausalLM (DeepSeek-MoE-16B): plain attention, V1 routing.</summary>
    private static bool IsHfDeepSeekMoe(HfModelConfig raw) =>
        raw.Architectures is { Length: > 0 } a ? a[0] == "DeepseekForCausalLM" : raw.ModelType == "deepseek";

    public static DeepSeekConfig FromHf(HfModelConfig raw, string source)
    {
        if (IsHfDeepSeekMoe(raw) || raw.UseMla == false) return FromHfPlain(raw, source);
        int Required(int? v, string field) => v ?? throw new FurnaceException($"{source}: missing field '{field}'");
        if ((raw.MoeLayerFreq ?? 1) != 1) throw new FurnaceException($"{source}: moe_layer_freq {raw.MoeLayerFreq} is not supported (1)");
        string scoring = raw.ScoringFunc ?? "softmax";
        ExpertGating gating = scoring switch
        {
            "softmax" => ExpertGating.Softmax,
            "sigmoid" => ExpertGating.Sigmoid,
            _ => throw new FurnaceException($"{source}: scoring_func '{scoring}' is not supported (softmax, sigmoid)"),
        };
        YarnScaling? yarn = null;
        if (raw.RopeScaling is { } rs)
        {
            if (rs.Kind != "yarn") throw new FurnaceException($"{source}: rope_scaling type '{rs.Kind}' is not supported for DeepSeek (yarn)");
            yarn = new YarnScaling((float)(rs.Factor ?? 1), rs.OriginalMaxPositionEmbeddings ?? Required(raw.MaxPositionEmbeddings, "max_position_embeddings"),
                (float)(rs.MscaleAllDim ?? 0), 1f, (float)(rs.BetaFast ?? 32), (float)(rs.BetaSlow ?? 1));
        }
        // group-limited routing: llama.cpp's converter writes n_group / topk_group whatever topk_method says
        int groups = raw.TopkMethod is "group_limited_greedy" or "noaux_tc" ? raw.NGroup ?? 0 : 0;
        // A directory runs as its own reference code does (modeling_deepseek_v2.py / _v3.py MoEGate), where that differs
        // from llama.cpp: V2's group_limited_greedy scores a group by its max, and V2 scales the routed weights by
        // routed_scaling_factor only when it does not normalise them (V3 normalises, then always scales).
        bool v2 = raw.Architectures is { Length: > 0 } arch ? arch[0] == "DeepseekV2ForCausalLM" : raw.ModelType == "deepseek_v2";
        bool norm = raw.NormTopkProb ?? false;
        int used = Required(raw.NumExpertsPerTok, "num_experts_per_tok");
        return new DeepSeekConfig
        {
            Dim = Required(raw.HiddenSize, "hidden_size"),
            Layers = Required(raw.NumHiddenLayers, "num_hidden_layers"),
            Heads = Required(raw.NumAttentionHeads, "num_attention_heads"),
            VocabSize = Required(raw.VocabSize, "vocab_size"),
            MaxPositions = Required(raw.MaxPositionEmbeddings, "max_position_embeddings"),
            QLoraRank = raw.QLoraRank ?? 0,
            KvLoraRank = Required(raw.KvLoraRank, "kv_lora_rank"),
            QkNopeDim = Required(raw.QkNopeHeadDim, "qk_nope_head_dim"),
            QkRopeDim = Required(raw.QkRopeHeadDim, "qk_rope_head_dim"),
            VHeadDim = Required(raw.VHeadDim, "v_head_dim"),
            FfnDim = Required(raw.IntermediateSize, "intermediate_size"),
            LeadingDenseLayers = raw.FirstKDenseReplace ?? 0,
            Experts = Required(raw.NRoutedExperts, "n_routed_experts"),
            ExpertsUsed = used,
            SharedExperts = raw.NSharedExperts ?? 0,
            ExpertFfnDim = Required(raw.MoeIntermediateSize, "moe_intermediate_size"),
            ExpertWeightsScale = v2 && norm && used > 1 ? 1f : (float)(raw.RoutedScalingFactor ?? 1),
            ExpertWeightsNorm = norm && used > 1,
            Gating = gating,
            ExpertGroups = groups,
            ExpertGroupsUsed = groups > 1 ? Required(raw.TopkGroup, "topk_group") : 0,
            GroupScore = v2 && raw.TopkMethod == "group_limited_greedy" ? ExpertGroupScore.Max : ExpertGroupScore.SumOfTopTwo,
            RmsEps = (float)(raw.RmsNormEps ?? 1e-6),
            RopeTheta = (float)(raw.RopeTheta ?? 10000),
            Yarn = yarn,
            TiedEmbeddings = raw.TieWordEmbeddings ?? false,
        }.Validated(source);
    }

    // Plain multi-head attention with DeepSeekMoE: DeepseekForCausalLM (deepseek-moe-16b's modeling_deepseek.py:
    // DeepseekAttention, MoEGate with softmax, greedy top-k, optional norm_topk_prob and no routed scaling) or a
    // DeepseekV2 config with use_mla false (DeepSeek-VL2's modeling_deepseek.py: transformers 4.38's LlamaAttention,
    // V2's MoEGate). Both take head_dim = hidden_size / num_attention_heads, q/k/v/o without bias, RoPE over the whole
    // head with rotate_half on the unpermuted weights (RopeNeox), softmax scale 1/sqrt(head_dim).
    private static DeepSeekConfig FromHfPlain(HfModelConfig raw, string source)
    {
        int Required(int? v, string field) => v ?? throw new FurnaceException($"{source}: missing field '{field}'");
        if (raw.AttentionBias == true) throw new FurnaceException($"{source}: attention_bias true is not supported for DeepSeek plain attention");
        if (raw.RopeScaling != null) throw new FurnaceException($"{source}: rope_scaling is not supported for DeepSeek plain attention (use_mla false / DeepseekForCausalLM)");
        int dim = Required(raw.HiddenSize, "hidden_size"), heads = Required(raw.NumAttentionHeads, "num_attention_heads");
        if (heads <= 0 || dim % heads != 0) throw new FurnaceException($"{source}: num_attention_heads {heads} does not divide hidden_size {dim}");
        int headDim = dim / heads;
        DeepSeekConfig c;
        if (IsHfDeepSeekMoe(raw))
        {
            if ((raw.MoeLayerFreq ?? 1) != 1) throw new FurnaceException($"{source}: moe_layer_freq {raw.MoeLayerFreq} is not supported (1)");
            if ((raw.ScoringFunc ?? "softmax") != "softmax") throw new FurnaceException($"{source}: scoring_func '{raw.ScoringFunc}' is not supported for DeepseekForCausalLM (softmax)");
            int used = Required(raw.NumExpertsPerTok, "num_experts_per_tok");
            c = new DeepSeekConfig
            {
                Dim = dim, Layers = Required(raw.NumHiddenLayers, "num_hidden_layers"), Heads = heads,
                VocabSize = Required(raw.VocabSize, "vocab_size"), MaxPositions = Required(raw.MaxPositionEmbeddings, "max_position_embeddings"),
                KvLoraRank = 0, QkNopeDim = 0, QkRopeDim = headDim, VHeadDim = headDim,
                FfnDim = Required(raw.IntermediateSize, "intermediate_size"),
                LeadingDenseLayers = raw.FirstKDenseReplace ?? 0,
                Experts = Required(raw.NRoutedExperts, "n_routed_experts"),
                ExpertsUsed = used,
                SharedExperts = raw.NSharedExperts ?? 0,
                ExpertFfnDim = Required(raw.MoeIntermediateSize, "moe_intermediate_size"),
                ExpertWeightsScale = 1f,
                ExpertWeightsNorm = (raw.NormTopkProb ?? false) && used > 1,
                Gating = ExpertGating.Softmax,
                RmsEps = (float)(raw.RmsNormEps ?? 1e-6),
                RopeTheta = (float)(raw.RopeTheta ?? 10000),
                TiedEmbeddings = raw.TieWordEmbeddings ?? false,
            };
        }
        else
        {
            // the V2 routing and everything else as for MLA; the MLA fields (kv_lora_rank null in deepseek-vl2-tiny) are unused
            HfModelConfig mla = raw with
            {
                UseMla = true, RopeScaling = null, KvLoraRank = 1, QLoraRank = 0, QkNopeHeadDim = 1, QkRopeHeadDim = 2, VHeadDim = 1,
            };
            c = FromHf(mla, source);
        }
        return (c with
        {
            Mla = false, KvHeads = raw.NumKeyValueHeads ?? heads, QLoraRank = 0, KvLoraRank = 0, QkNopeDim = 0,
            QkRopeDim = headDim, VHeadDim = headDim, Yarn = null, RopeNeox = true,
        }).Validated(source);
    }
}
