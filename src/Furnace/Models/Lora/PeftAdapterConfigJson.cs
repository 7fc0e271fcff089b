// The raw fields of PEFT's adapter_config.json (peft/tuners/lora/config.py LoraConfig, as `save_pretrained` writes
// it), exactly as written: snake_case keys, everything nullable, unknown keys ignored. LoraConfig.FromJson turns it
// into a validated LoraConfig; fields Furnace cannot honour (DoRA, per-module rank/alpha patterns, biases) are read
// so that they can be refused by name instead of silently ignored.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Furnace.Models.Lora;

public sealed record PeftAdapterConfigJson
{
    [JsonPropertyName("peft_type")]
    public string? PeftType { get; init; }

    [JsonPropertyName("task_type")]
    public string? TaskType { get; init; }

    [JsonPropertyName("base_model_name_or_path")]
    public string? BaseModelNameOrPath { get; init; }

    [JsonPropertyName("r")]
    public int? R { get; init; }

    [JsonPropertyName("lora_alpha")]
    public double? LoraAlpha { get; init; }

    [JsonPropertyName("lora_dropout")]
    public double? LoraDropout { get; init; }

    /// <summary>A list of module names, or one string: "all-linear" or a full-match regex (kept as JSON to tell them apart).</summary>
    [JsonPropertyName("target_modules")]
    public JsonElement? TargetModules { get; init; }

    [JsonPropertyName("bias")]
    public string? Bias { get; init; }

    [JsonPropertyName("use_rslora")]
    public bool? UseRsLora { get; init; }

    [JsonPropertyName("use_dora")]
    public bool? UseDora { get; init; }

    [JsonPropertyName("fan_in_fan_out")]
    public bool? FanInFanOut { get; init; }

    [JsonPropertyName("modules_to_save")]
    public string[]? ModulesToSave { get; init; }

    [JsonPropertyName("layers_to_transform")]
    public JsonElement? LayersToTransform { get; init; }

    [JsonPropertyName("rank_pattern")]
    public Dictionary<string, JsonElement>? RankPattern { get; init; }

    [JsonPropertyName("alpha_pattern")]
    public Dictionary<string, JsonElement>? AlphaPattern { get; init; }

    [JsonPropertyName("inference_mode")]
    public bool? InferenceMode { get; init; }
}
