// The raw fields of DeepSeek-VL2's config.json (model_type deepseek_vl_v2) and processor_config.json as written
// (snake_case, nullable, unknown keys ignored), mirroring DeepseekVLV2Config / VisionEncoderConfig / MlpProjectorConfig
// (deepseek_vl2/models/modeling_deepseek_vl_v2.py) and DeepseekVLV2Processor.__init__ (processing_deepseek_vl_v2.py)
// at DeepSeek-VL2 ef9f91e. language_config stays raw JSON: DeepSeekConfig.FromHf reads it. The validated forms are
// DeepSeekVl2Config and DeepSeekVl2ProcessorConfig, which apply those classes' defaults.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Furnace.Models.DeepSeekVl2;

public sealed record DeepSeekVl2ConfigJson
{
    [JsonPropertyName("architectures")]
    public string[]? Architectures { get; init; }

    [JsonPropertyName("model_type")]
    public string? ModelType { get; init; }

    [JsonPropertyName("vision_config")]
    public DeepSeekVl2VisionJson? VisionConfig { get; init; }

    [JsonPropertyName("projector_config")]
    public DeepSeekVl2ProjectorJson? ProjectorConfig { get; init; }

    [JsonPropertyName("language_config")]
    public JsonElement? LanguageConfig { get; init; }

    [JsonPropertyName("tile_tag")]
    public string? TileTag { get; init; }

    [JsonPropertyName("global_view_pos")]
    public string? GlobalViewPos { get; init; }

    /// <summary>(width, height) pairs, as select_best_resolution unpacks them.</summary>
    [JsonPropertyName("candidate_resolutions")]
    public int[][]? CandidateResolutions { get; init; }
}

public sealed record DeepSeekVl2VisionJson
{
    [JsonPropertyName("model_name")]
    public string? ModelName { get; init; }

    [JsonPropertyName("image_size")]
    public int? ImageSize { get; init; }

    [JsonPropertyName("patch_size")]
    public int? PatchSize { get; init; }

    [JsonPropertyName("width")]
    public int? Width { get; init; }

    [JsonPropertyName("layers")]
    public int? Layers { get; init; }

    [JsonPropertyName("heads")]
    public int? Heads { get; init; }

    /// <summary>A float in the published files (SO400M: 3.7362; the MLP width is int(width · mlp_ratio)).</summary>
    [JsonPropertyName("mlp_ratio")]
    public double? MlpRatio { get; init; }

    [JsonPropertyName("global_pool")]
    public string? GlobalPool { get; init; }

    [JsonPropertyName("ignore_head")]
    public bool? IgnoreHead { get; init; }

    [JsonPropertyName("class_token")]
    public bool? ClassToken { get; init; }
}

public sealed record DeepSeekVl2ProjectorJson
{
    [JsonPropertyName("projector_type")]
    public string? ProjectorType { get; init; }

    [JsonPropertyName("input_dim")]
    public int? InputDim { get; init; }

    [JsonPropertyName("n_embed")]
    public int? NEmbed { get; init; }

    [JsonPropertyName("depth")]
    public int? Depth { get; init; }

    [JsonPropertyName("mlp_ratio")]
    public int? MlpRatio { get; init; }

    [JsonPropertyName("downsample_ratio")]
    public int? DownsampleRatio { get; init; }

    [JsonPropertyName("token_pooling")]
    public bool? TokenPooling { get; init; }
}

public sealed record DeepSeekVl2ProcessorJson
{
    [JsonPropertyName("processor_class")]
    public string? ProcessorClass { get; init; }

    [JsonPropertyName("candidate_resolutions")]
    public int[][]? CandidateResolutions { get; init; }

    [JsonPropertyName("patch_size")]
    public int? PatchSize { get; init; }

    [JsonPropertyName("downsample_ratio")]
    public int? DownsampleRatio { get; init; }

    [JsonPropertyName("image_mean")]
    public double[]? ImageMean { get; init; }

    [JsonPropertyName("image_std")]
    public double[]? ImageStd { get; init; }

    [JsonPropertyName("normalize")]
    public bool? Normalize { get; init; }

    [JsonPropertyName("image_token")]
    public string? ImageToken { get; init; }

    [JsonPropertyName("pad_token")]
    public string? PadToken { get; init; }

    [JsonPropertyName("add_special_token")]
    public bool? AddSpecialToken { get; init; }

    [JsonPropertyName("sft_format")]
    public string? SftFormat { get; init; }

    [JsonPropertyName("mask_prompt")]
    public bool? MaskPrompt { get; init; }

    [JsonPropertyName("ignore_id")]
    public int? IgnoreId { get; init; }
}

[JsonSourceGenerationOptions(ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(DeepSeekVl2ConfigJson))]
[JsonSerializable(typeof(DeepSeekVl2ProcessorJson))]
internal sealed partial class DeepSeekVl2JsonContext : JsonSerializerContext
{
}
