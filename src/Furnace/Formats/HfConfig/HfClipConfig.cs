// The raw fields of a CLIP config.json exactly as written (snake_case, all nullable, unknown keys ignored). Mirrors
// transformers' CLIPConfig (text_config, vision_config, the legacy text_config_dict / vision_config_dict overrides,
// projection_dim, logit_scale_init_value) and CLIPTextConfig / CLIPVisionConfig attribute names. A vision-only
// CLIPVisionModel(WithProjection) config.json carries the tower fields at the top level, so the same file is also
// read as one HfClipTowerConfig. ClipConfig.FromHuggingFace applies transformers' defaults and validates.
using System.Text.Json.Serialization;

namespace Furnace.Formats.HfConfig;

public sealed record HfClipConfig
{
    [JsonPropertyName("architectures")]
    public string[]? Architectures { get; init; }

    [JsonPropertyName("model_type")]
    public string? ModelType { get; init; }

    [JsonPropertyName("projection_dim")]
    public int? ProjectionDim { get; init; }

    [JsonPropertyName("logit_scale_init_value")]
    public double? LogitScaleInitValue { get; init; }

    [JsonPropertyName("text_config")]
    public HfClipTowerConfig? TextConfig { get; init; }

    [JsonPropertyName("vision_config")]
    public HfClipTowerConfig? VisionConfig { get; init; }

    /// <summary>Older transformers wrote the non-default fields here; they win over text_config.</summary>
    [JsonPropertyName("text_config_dict")]
    public HfClipTowerConfig? TextConfigDict { get; init; }

    [JsonPropertyName("vision_config_dict")]
    public HfClipTowerConfig? VisionConfigDict { get; init; }
}
