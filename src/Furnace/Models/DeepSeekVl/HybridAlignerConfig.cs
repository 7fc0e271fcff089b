// The validated aligner_config.params of a DeepSeek-VL hybrid checkpoint (deepseek_vl/models/projector.py
// MlpProjector, projector_type "low_high_hybrid_split_mlp_gelu"; the 7B chat model: input_dim 1024, n_embed 4096,
// depth 2).
using System.Text.Json;

namespace Furnace.Models.DeepSeekVl;

public sealed record HybridAlignerConfig
{
    public const string ProjectorType = "low_high_hybrid_split_mlp_gelu";

    /// <summary>Width of each tower's features (both towers must have it).</summary>
    public int InputDim { get; init; } = 1024;

    /// <summary>The language model's hidden size; each tower is projected to half of it.</summary>
    public int NEmbed { get; init; } = 4096;

    /// <summary>1 + the number of (GELU, Linear) pairs after the concatenation (params.depth, default 1).</summary>
    public int Depth { get; init; } = 1;

    /// <summary>From aligner_config.params; the error names the key.</summary>
    public static HybridAlignerConfig FromParams(JsonElement p, string source)
    {
        string where = $"{source}: aligner_config.params";
        if (p.ValueKind != JsonValueKind.Object) throw new FurnaceException($"{where} is not an object");
        string? type = p.TryGetProperty("projector_type", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        if (type != ProjectorType) throw new FurnaceException($"{where}.projector_type is '{type}', expected '{ProjectorType}'");
        int Need(string key, int? fallback)
        {
            if (p.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null)
                return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw new FurnaceException($"{where}.{key} must be an integer");
            return fallback ?? throw new FurnaceException($"{where}.{key} is missing");
        }
        var c = new HybridAlignerConfig { InputDim = Need("input_dim", null), NEmbed = Need("n_embed", null), Depth = Need("depth", 1) };
        if (c.InputDim < 1) throw new FurnaceException($"{where}.input_dim {c.InputDim} must be positive");
        if (c.NEmbed < 2 || c.NEmbed % 2 != 0) throw new FurnaceException($"{where}.n_embed {c.NEmbed} must be a positive even number (each tower gets half)");
        if (c.Depth < 1) throw new FurnaceException($"{where}.depth {c.Depth} must be >= 1");
        return c;
    }
}
