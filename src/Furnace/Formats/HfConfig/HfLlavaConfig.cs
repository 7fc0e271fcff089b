// The raw fields of a Hugging Face LlavaForConditionalGeneration config.json as written (snake_case, all nullable,
// unknown keys ignored); mirrors transformers' LlavaConfig (configuration_llava.py). The nested vision_config
// (a CLIPVisionConfig) and text_config (a LlamaConfig / Qwen2Config) are kept as raw JSON and parsed by the CLIP and
// decoder config readers. LlavaConfig.FromHuggingFace applies LlavaConfig's defaults and validates.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Furnace.Formats.HfConfig;

public sealed record HfLlavaConfig
{
    [JsonPropertyName("architectures")]
    public string[]? Architectures { get; init; }

    [JsonPropertyName("model_type")]
    public string? ModelType { get; init; }

    [JsonPropertyName("vision_config")]
    public JsonElement? VisionConfig { get; init; }

    [JsonPropertyName("text_config")]
    public JsonElement? TextConfig { get; init; }

    /// <summary>Older files name it image_token_id's predecessor image_token_index; newer ones image_token_id.</summary>
    [JsonPropertyName("image_token_index")]
    public int? ImageTokenIndex { get; init; }

    [JsonPropertyName("image_token_id")]
    public int? ImageTokenId { get; init; }

    /// <summary>An int, or a list of ints whose hidden states are concatenated (not supported).</summary>
    [JsonPropertyName("vision_feature_layer")]
    public JsonElement? VisionFeatureLayer { get; init; }

    [JsonPropertyName("vision_feature_select_strategy")]
    public string? VisionFeatureSelectStrategy { get; init; }

    [JsonPropertyName("projector_hidden_act")]
    public string? ProjectorHiddenAct { get; init; }

    [JsonPropertyName("multimodal_projector_bias")]
    public bool? MultimodalProjectorBias { get; init; }

    [JsonPropertyName("image_seq_length")]
    public int? ImageSeqLength { get; init; }
}

[JsonSourceGenerationOptions(ReadCommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true)]
[JsonSerializable(typeof(HfLlavaConfig))]
internal sealed partial class HfLlavaConfigJsonContext : JsonSerializerContext
{
}
