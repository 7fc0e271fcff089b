// A LLaVA config.json vision_config that names a frozen ONNX image encoder instead of a CLIP tower (our extension of
// the HF LLaVA layout; transformers cannot load it). Only the pretrained ResNet18 that Furnace ships from NuGet:
//   "vision_config": {"model_type": "onnx_resnet18", "feature": "grid", "hidden_size": 512, "image_size": 224}
// "grid" hands over the 7×7×512 map before pooling as 49 tokens of 512 (row-major: position information kept),
// "pooled" the 512-d average as one token. The ONNX files are not in the model directory: they are read from
// models/resnet18 next to the binary (ResNet18.DefaultDirectory), so the safetensors hold no vision_tower.* keys.
using Furnace.Models.Onnx;

namespace Furnace.Models.Vlm;

public sealed record OnnxVisionSpec
{
    public const string ResNet18Type = "onnx_resnet18";

    public OnnxOutputKind Feature { get; init; } = OnnxOutputKind.Grid;

    /// <summary>Width of a feature row (ResNet18: 512).</summary>
    public int HiddenSize => ResNet18.FeatureDim;

    public int ImageSize => ResNet18.Size;

    /// <summary>Feature rows per image: 49 (grid) or 1 (pooled).</summary>
    public int Tokens => Feature == OnnxOutputKind.Grid ? 49 : 1;

    /// <summary>The vision encoder: ResNet18 from <paramref name="directory"/> (default: models/resnet18 next to the binary).</summary>
    public OnnxVisionEncoder Open(string? directory = null, int intraOpThreads = 0) =>
        new(ResNet18.Open(directory, Feature, intraOpThreads));

    public System.Text.Json.Nodes.JsonObject ToJson() => new()
    {
        ["model_type"] = ResNet18Type,
        ["feature"] = Feature == OnnxOutputKind.Grid ? "grid" : "pooled",
        ["hidden_size"] = HiddenSize,
        ["image_size"] = ImageSize,
    };

    /// <summary>Reads a vision_config object whose model_type is onnx_resnet18.</summary>
    public static OnnxVisionSpec Parse(System.Text.Json.JsonElement vc, string source)
    {
        OnnxOutputKind feature = vc.TryGetProperty("feature", out var f) ? f.GetString() switch
        {
            "grid" => OnnxOutputKind.Grid,
            "pooled" => OnnxOutputKind.Pooled,
            var s => throw new FurnaceException($"{source}: vision_config.feature '{s}' is not supported (grid, pooled)"),
        } : OnnxOutputKind.Grid;
        var spec = new OnnxVisionSpec { Feature = feature };
        if (vc.TryGetProperty("hidden_size", out var h) && h.GetInt32() != spec.HiddenSize)
            throw new FurnaceException($"{source}: vision_config.hidden_size {h.GetInt32()} is not ResNet18's {spec.HiddenSize}");
        if (vc.TryGetProperty("image_size", out var i) && i.GetInt32() != spec.ImageSize)
            throw new FurnaceException($"{source}: vision_config.image_size {i.GetInt32()} is not ResNet18's {spec.ImageSize}");
        return spec;
    }
}
