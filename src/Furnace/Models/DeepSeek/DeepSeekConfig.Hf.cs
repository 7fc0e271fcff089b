// DeepSeekConfig from a Hugging Face config.json (transformers' DeepseekV2Config / DeepseekV3Config, the
// deepseek-ai/DeepSeek-V2-Lite and DeepSeek-V3 repositories), with the values llama.cpp's convert_hf_to_gguf.py
// (DeepseekV2Model.set_gguf_parameters) derives from it, so that a directory and its GGUF conversion run alike.
using Furnace.Formats.HfConfig;

namespace Furnace.Models.DeepSeek;

public sealed partial record DeepSeekConfig
{
    /// <summary>True when config.json names DeepseekV2ForCausalLM / DeepseekV3ForCausalLM (or model_type deepseek_v2/v3).</summary>
    public static bool IsHfDeepSeek(HfModelConfig raw) =>
        raw.Architectures is { Length: > 0 } a ? a[0] is "DeepseekV2ForCausalLM" or "DeepseekV3ForCausalLM" : raw.ModelType is "deepseek_v2" or "deepseek_v3";

    public static DeepSeekConfig FromHf(HfModelConfig raw, string source)
    {
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
}
