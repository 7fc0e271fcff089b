// The raw `quantization_config` object of a quantized Hugging Face config.json, as transformers writes it
// (transformers/utils/quantization_config.py: GPTQConfig for AutoGPTQ / GPTQModel, AwqConfig for AutoAWQ; AutoAWQ's
// own quant_config.json spells bits and group size w_bit / q_group_size). Everything nullable, unknown keys ignored;
// Quantization.Import.HfQuantization validates it.
using System.Text.Json.Serialization;

namespace Furnace.Formats.HfConfig;

public sealed record HfQuantizationConfig
{
    /// <summary>"gptq", "awq", or another method (bitsandbytes, fp8, …) that Furnace names in its error.</summary>
    [JsonPropertyName("quant_method")]
    public string? QuantMethod { get; init; }

    [JsonPropertyName("bits")]
    public int? Bits { get; init; }

    [JsonPropertyName("w_bit")]
    public int? WBit { get; init; }

    /// <summary>Input columns per group; −1 = one group over the whole input dimension (GPTQ).</summary>
    [JsonPropertyName("group_size")]
    public int? GroupSize { get; init; }

    [JsonPropertyName("q_group_size")]
    public int? QGroupSize { get; init; }

    /// <summary>GPTQ act-order: columns quantized in descending Hessian order, so g_idx is not i / group_size.</summary>
    [JsonPropertyName("desc_act")]
    public bool? DescAct { get; init; }

    [JsonPropertyName("sym")]
    public bool? Sym { get; init; }

    /// <summary>GPTQ zero-point storage: "gptq" (AutoGPTQ v1, stores zero − 1) or "gptq_v2" (GPTQModel, stores zero).</summary>
    [JsonPropertyName("checkpoint_format")]
    public string? CheckpointFormat { get; init; }

    /// <summary>AWQ kernel layout: "gemm" (packed along the output dimension) is the one read here.</summary>
    [JsonPropertyName("version")]
    public string? Version { get; init; }

    [JsonPropertyName("zero_point")]
    public bool? ZeroPoint { get; init; }
}
