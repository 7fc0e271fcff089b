// The validated quantization of a GPTQ or AWQ Hugging Face checkpoint (config.json's quantization_config).
// GPTQ: AutoGPTQ / GPTQModel (auto_gptq/nn_modules/qlinear/qlinear_cuda_old.py, gptqmodel's v1 <-> v2 conversion);
// AWQ: AutoAWQ's GEMM layout (awq/modules/linear/gemm.py). Defaults are transformers' GPTQConfig / AwqConfig defaults
// (group_size 128, desc_act false, sym true, checkpoint_format "gptq"; AWQ zero_point true, version "gemm").
using Furnace.Formats.HfConfig;

namespace Furnace.Formats.Quantized;

public enum HfQuantMethod
{
    Gptq,
    Awq,
}

public sealed record HfQuantization
{
    public required HfQuantMethod Method { get; init; }

    /// <summary>Bits per code: GPTQ 2, 4 or 8; AWQ 4.</summary>
    public required int Bits { get; init; }

    /// <summary>Input columns per group; null = one group over the whole input (GPTQ group_size −1).</summary>
    public required int? GroupSize { get; init; }

    /// <summary>GPTQ act-order (the checkpoint's g_idx is then an arbitrary column -> group map).</summary>
    public bool DescAct { get; init; }

    public bool Sym { get; init; } = true;

    /// <summary>Added to each stored zero point: 1 for AutoGPTQ's v1 format (stores zero − 1), 0 for gptq_v2 and AWQ.</summary>
    public int ZeroOffset { get; init; }

    /// <summary>The checkpoint's quantization, null for an unquantized one; unsupported methods and layouts fail naming what they are.</summary>
    public static HfQuantization? FromConfig(HfModelConfig raw, string source)
    {
        if (raw.QuantizationConfig is not { } q) return null;
        string method = q.QuantMethod ?? throw new FurnaceException($"{source}: quantization_config has no quant_method");
        int bits = q.Bits ?? q.WBit ?? 4;
        int group = q.GroupSize ?? q.QGroupSize ?? 128;
        void Check(bool ok, string what)
        {
            if (!ok) throw new FurnaceException($"{source}: {what} is not supported");
        }
        switch (method.ToLowerInvariant())
        {
            case "gptq":
                Check(bits is 2 or 4 or 8, $"GPTQ with {bits} bits (2, 4 and 8 are)");
                Check(group == -1 || group > 0, $"GPTQ group_size {group}");
                string format = q.CheckpointFormat ?? "gptq";
                Check(format is "gptq" or "gptq_v2", $"GPTQ checkpoint_format '{format}' (gptq, gptq_v2 are)");
                return new HfQuantization
                {
                    Method = HfQuantMethod.Gptq,
                    Bits = bits,
                    GroupSize = group == -1 ? null : group,
                    DescAct = q.DescAct ?? false,
                    Sym = q.Sym ?? true,
                    ZeroOffset = format == "gptq" ? 1 : 0,
                };
            case "awq":
                Check(bits == 4, $"AWQ with {bits} bits (4 is)");
                Check(group > 0, $"AWQ group_size {group}");
                string version = (q.Version ?? "gemm").ToLowerInvariant();
                Check(version == "gemm", $"AWQ version '{q.Version}' (gemm is)");
                Check(q.ZeroPoint ?? true, "AWQ without zero_point");
                return new HfQuantization { Method = HfQuantMethod.Awq, Bits = 4, GroupSize = group, Sym = false };
            default:
                throw new FurnaceException($"{source}: {method} is not supported (quantization_config.quant_method: gptq and awq are)");
        }
    }

    /// <summary>Groups along an input dimension of <paramref name="inFeatures"/>.</summary>
    public int Groups(int inFeatures) => GroupSize is { } g ? (inFeatures + g - 1) / g : 1;
}
