// The raw fields of a Hugging Face config.json that Furnace reads for Llama-family decoders, exactly as written
// (snake_case keys, everything nullable, unknown keys ignored). Mirrors transformers' LlamaConfig / Qwen2Config
// attribute names; HfConfig turns it into a validated LlamaConfig with transformers' defaults. The MLA / MoE fields
// are DeepseekV2Config / DeepseekV3Config's, turned into a DeepSeekConfig by DeepSeekConfig.FromHf.
using System.Text.Json.Serialization;

namespace Furnace.Formats.HfConfig;

public sealed record HfModelConfig
{
    [JsonPropertyName("architectures")]
    public string[]? Architectures { get; init; }

    [JsonPropertyName("model_type")]
    public string? ModelType { get; init; }

    [JsonPropertyName("hidden_size")]
    public int? HiddenSize { get; init; }

    [JsonPropertyName("num_hidden_layers")]
    public int? NumHiddenLayers { get; init; }

    [JsonPropertyName("num_attention_heads")]
    public int? NumAttentionHeads { get; init; }

    [JsonPropertyName("num_key_value_heads")]
    public int? NumKeyValueHeads { get; init; }

    [JsonPropertyName("head_dim")]
    public int? HeadDim { get; init; }

    [JsonPropertyName("intermediate_size")]
    public int? IntermediateSize { get; init; }

    [JsonPropertyName("vocab_size")]
    public int? VocabSize { get; init; }

    [JsonPropertyName("max_position_embeddings")]
    public int? MaxPositionEmbeddings { get; init; }

    [JsonPropertyName("rms_norm_eps")]
    public double? RmsNormEps { get; init; }

    [JsonPropertyName("rope_theta")]
    public double? RopeTheta { get; init; }

    [JsonPropertyName("rope_scaling")]
    public HfRopeScaling? RopeScaling { get; init; }

    /// <summary>transformers 5 folds rope_theta and rope_scaling into this one object.</summary>
    [JsonPropertyName("rope_parameters")]
    public HfRopeScaling? RopeParameters { get; init; }

    [JsonPropertyName("tie_word_embeddings")]
    public bool? TieWordEmbeddings { get; init; }

    [JsonPropertyName("attention_bias")]
    public bool? AttentionBias { get; init; }

    [JsonPropertyName("mlp_bias")]
    public bool? MlpBias { get; init; }

    [JsonPropertyName("hidden_act")]
    public string? HiddenAct { get; init; }

    [JsonPropertyName("torch_dtype")]
    public string? TorchDtype { get; init; }

    /// <summary>transformers 5 name of torch_dtype.</summary>
    [JsonPropertyName("dtype")]
    public string? Dtype { get; init; }

    [JsonPropertyName("bos_token_id")]
    public int? BosTokenId { get; init; }

    /// <summary>One id or a list (Llama 3 instruct models stop on several).</summary>
    [JsonPropertyName("eos_token_id")]
    [JsonConverter(typeof(IntOrIntArrayConverter))]
    public int[]? EosTokenId { get; init; }

    [JsonPropertyName("pad_token_id")]
    public int? PadTokenId { get; init; }

    [JsonPropertyName("use_sliding_window")]
    public bool? UseSlidingWindow { get; init; }

    [JsonPropertyName("sliding_window")]
    public int? SlidingWindow { get; init; }

    [JsonPropertyName("max_window_layers")]
    public int? MaxWindowLayers { get; init; }

    [JsonPropertyName("q_lora_rank")]
    public int? QLoraRank { get; init; }

    [JsonPropertyName("kv_lora_rank")]
    public int? KvLoraRank { get; init; }

    /// <summary>DeepSeek-VL2's DeepseekV2Config: false = transformers' LlamaAttention instead of MLA (deepseek-vl2-tiny).</summary>
    [JsonPropertyName("use_mla")]
    public bool? UseMla { get; init; }

    [JsonPropertyName("qk_nope_head_dim")]
    public int? QkNopeHeadDim { get; init; }

    [JsonPropertyName("qk_rope_head_dim")]
    public int? QkRopeHeadDim { get; init; }

    [JsonPropertyName("v_head_dim")]
    public int? VHeadDim { get; init; }

    [JsonPropertyName("moe_intermediate_size")]
    public int? MoeIntermediateSize { get; init; }

    [JsonPropertyName("n_routed_experts")]
    public int? NRoutedExperts { get; init; }

    [JsonPropertyName("num_experts_per_tok")]
    public int? NumExpertsPerTok { get; init; }

    [JsonPropertyName("n_shared_experts")]
    public int? NSharedExperts { get; init; }

    [JsonPropertyName("first_k_dense_replace")]
    public int? FirstKDenseReplace { get; init; }

    [JsonPropertyName("moe_layer_freq")]
    public int? MoeLayerFreq { get; init; }

    [JsonPropertyName("routed_scaling_factor")]
    public double? RoutedScalingFactor { get; init; }

    [JsonPropertyName("norm_topk_prob")]
    public bool? NormTopkProb { get; init; }

    /// <summary>"softmax" (V2) or "sigmoid" (V3).</summary>
    [JsonPropertyName("scoring_func")]
    public string? ScoringFunc { get; init; }

    /// <summary>"greedy", "group_limited_greedy" (V2) or "noaux_tc" (V3).</summary>
    [JsonPropertyName("topk_method")]
    public string? TopkMethod { get; init; }

    [JsonPropertyName("n_group")]
    public int? NGroup { get; init; }

    [JsonPropertyName("topk_group")]
    public int? TopkGroup { get; init; }

    /// <summary>Present on GPTQ / AWQ (and other quantized) checkpoints.</summary>
    [JsonPropertyName("quantization_config")]
    public HfQuantizationConfig? QuantizationConfig { get; init; }
}

/// <summary>rope_scaling (or transformers 5 rope_parameters); "type" is the pre-4.43 spelling of "rope_type".</summary>
public sealed record HfRopeScaling
{
    [JsonPropertyName("rope_type")]
    public string? RopeType { get; init; }

    [JsonPropertyName("type")]
    public string? Type { get; init; }

    [JsonPropertyName("factor")]
    public double? Factor { get; init; }

    [JsonPropertyName("low_freq_factor")]
    public double? LowFreqFactor { get; init; }

    [JsonPropertyName("high_freq_factor")]
    public double? HighFreqFactor { get; init; }

    [JsonPropertyName("original_max_position_embeddings")]
    public int? OriginalMaxPositionEmbeddings { get; init; }

    [JsonPropertyName("rope_theta")]
    public double? RopeTheta { get; init; }

    /// <summary>YaRN (DeepSeek): the rope magnitude is get_mscale(factor, mscale) / get_mscale(factor, mscale_all_dim).</summary>
    [JsonPropertyName("mscale")]
    public double? Mscale { get; init; }

    /// <summary>YaRN (DeepSeek): the softmax scale is multiplied by get_mscale(factor, mscale_all_dim)².</summary>
    [JsonPropertyName("mscale_all_dim")]
    public double? MscaleAllDim { get; init; }

    [JsonPropertyName("beta_fast")]
    public double? BetaFast { get; init; }

    [JsonPropertyName("beta_slow")]
    public double? BetaSlow { get; init; }

    public string? Kind => RopeType ?? Type;
}
