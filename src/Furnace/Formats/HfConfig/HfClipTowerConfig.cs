// The fields of transformers' CLIPTextConfig and CLIPVisionConfig as written in config.json (one record: the two
// towers share most names); nested in a CLIPModel config or at the top level of a vision-only one.
using System.Text.Json.Serialization;

namespace Furnace.Formats.HfConfig;

/// <summary>The fields of CLIPTextConfig and CLIPVisionConfig (one record: the two share most names).</summary>
public sealed record HfClipTowerConfig
{
    [JsonPropertyName("model_type")]
    public string? ModelType { get; init; }

    [JsonPropertyName("hidden_size")]
    public int? HiddenSize { get; init; }

    [JsonPropertyName("intermediate_size")]
    public int? IntermediateSize { get; init; }

    [JsonPropertyName("num_hidden_layers")]
    public int? NumHiddenLayers { get; init; }

    [JsonPropertyName("num_attention_heads")]
    public int? NumAttentionHeads { get; init; }

    [JsonPropertyName("hidden_act")]
    public string? HiddenAct { get; init; }

    [JsonPropertyName("layer_norm_eps")]
    public double? LayerNormEps { get; init; }

    [JsonPropertyName("projection_dim")]
    public int? ProjectionDim { get; init; }

    // vision
    [JsonPropertyName("image_size")]
    public int? ImageSize { get; init; }

    [JsonPropertyName("patch_size")]
    public int? PatchSize { get; init; }

    [JsonPropertyName("num_channels")]
    public int? NumChannels { get; init; }

    // text
    [JsonPropertyName("vocab_size")]
    public int? VocabSize { get; init; }

    [JsonPropertyName("max_position_embeddings")]
    public int? MaxPositionEmbeddings { get; init; }

    [JsonPropertyName("bos_token_id")]
    public int? BosTokenId { get; init; }

    [JsonPropertyName("eos_token_id")]
    public int? EosTokenId { get; init; }

    [JsonPropertyName("pad_token_id")]
    public int? PadTokenId { get; init; }

    /// <summary>Fields of the dictionary override o replace those of this record where set (CLIPConfig's *_config_dict).</summary>
    public HfClipTowerConfig Overridden(HfClipTowerConfig? o) => o == null ? this : new HfClipTowerConfig
    {
        ModelType = o.ModelType ?? ModelType,
        HiddenSize = o.HiddenSize ?? HiddenSize,
        IntermediateSize = o.IntermediateSize ?? IntermediateSize,
        NumHiddenLayers = o.NumHiddenLayers ?? NumHiddenLayers,
        NumAttentionHeads = o.NumAttentionHeads ?? NumAttentionHeads,
        HiddenAct = o.HiddenAct ?? HiddenAct,
        LayerNormEps = o.LayerNormEps ?? LayerNormEps,
        ProjectionDim = o.ProjectionDim ?? ProjectionDim,
        ImageSize = o.ImageSize ?? ImageSize,
        PatchSize = o.PatchSize ?? PatchSize,
        NumChannels = o.NumChannels ?? NumChannels,
        VocabSize = o.VocabSize ?? VocabSize,
        MaxPositionEmbeddings = o.MaxPositionEmbeddings ?? MaxPositionEmbeddings,
        BosTokenId = o.BosTokenId ?? BosTokenId,
        EosTokenId = o.EosTokenId ?? EosTokenId,
        PadTokenId = o.PadTokenId ?? PadTokenId,
    };
}
