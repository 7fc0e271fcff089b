// Shared plumbing of the vision verbs (caption, ask, embed): the model options (a LLaVA directory, or a decoder
// composed with --vision and --projector; --lora merges an adapter into the decoder), opening vision encoders (CLIP directory or ONNX model) and decoding images.
using System.CommandLine;
using Furnace.Formats.Images;
using Furnace.Models.Onnx;
using Furnace.Models.Projectors;
using Furnace.Models.Vlm;

namespace Furnace.Cli.Commands;

internal sealed class VlmOptions
{
    public Option<string?> Model { get; } = new("--model", "-m")
    {
        Description = "A LLaVA directory (HF LlavaForConditionalGeneration) or a DeepSeek-VL one (MultiModalityCausalLM), or with --vision and --projector the decoder (.gguf file or HF directory); default: the embedded models/furnace-captioner-tiny",
    };

    public Option<string?> Vision { get; } = new("--vision")
    {
        Description = "Compose: the vision encoder, a CLIP directory or an .onnx image encoder (or a directory with ResNet18.onnx)",
    };

    public Option<string?> Projector { get; } = new("--projector")
    {
        Description = "Compose: projector weights (.safetensors: multi_modal_projector.linear_1/2.* or mm_projector.0/2.*)",
    };

    public Option<string?> ProjectorType { get; } = new("--projector-type")
    {
        Description = "Compose: linear or mlp2x_gelu (default: from the weights)",
    };

    /// <summary>What names the model in reports: its full path, or the composed parts.</summary>
    public string Label(ParseResult r)
    {
        string model = Path.GetFullPath(r.GetValue(Model) ?? DefaultModel.Find() ?? "");
        string? vision = r.GetValue(Vision), projector = r.GetValue(Projector), lora = r.GetValue(Lora.Lora);
        string label = vision is null || projector is null ? model : $"{model} + {Path.GetFullPath(vision)} + {Path.GetFullPath(projector)}";
        return lora is null ? label : $"{label} + lora {Path.GetFullPath(lora)}";
    }

    // the architecture of an HF directory whose config.json is a plain decoder (no vision_config), else null
    private static string? TextOnlyArchitecture(string dir)
    {
        string config = Path.Combine(dir, "config.json");
        if (!File.Exists(config)) return null;
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(config));
            var root = doc.RootElement;
            if (root.ValueKind != System.Text.Json.JsonValueKind.Object || root.TryGetProperty("vision_config", out _)) return null;
            if (root.TryGetProperty("architectures", out var archs) && archs.ValueKind == System.Text.Json.JsonValueKind.Array && archs.GetArrayLength() > 0)
                return archs[0].GetString();
            return root.TryGetProperty("model_type", out var mt) ? mt.GetString() : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    public LoraOptions Lora { get; } = new();

    public IEnumerable<Option> All => [Model, Vision, Projector, ProjectorType, .. Lora.All];

    public LlavaModel Open(ParseResult r)
    {
        string? model = r.GetValue(Model);
        string? vision = r.GetValue(Vision), projector = r.GetValue(Projector), kind = r.GetValue(ProjectorType);
        if (string.IsNullOrEmpty(model))
        {
            if (vision != null || projector != null) throw new FurnaceException("composing a model needs --model (the decoder) with --vision and --projector");
            model = DefaultModel.Require(); // the embedded captioner (models/furnace-captioner-tiny)
        }
        if (vision == null && projector == null)
        {
            if (kind != null) throw new FurnaceException("--projector-type needs --vision and --projector");
            if (!Directory.Exists(model)) throw new FurnaceException($"{model}: not a LLaVA model directory (to use a decoder file, add --vision and --projector)");
            if (TextOnlyArchitecture(model) is string arch)
                throw new FurnaceException($"{model}: a text-only model ({arch}) has no vision tower and cannot look at images; pass a LLaVA directory, or add --vision and --projector to compose one with this decoder");
            return LlavaModel.Load(model, Lora.Load(r), Lora.ScaleOf(r));
        }
        if (vision == null || projector == null) throw new FurnaceException("composing a model needs both --vision and --projector");
        var adapter = Lora.Load(r);
        return LlavaModel.Compose(VlmCli.OpenEncoder(vision), projector, kind == null ? null : Furnace.Models.Projectors.Projector.ParseKind(kind), model, adapter, Lora.ScaleOf(r));
    }
}

internal static class VlmCli
{
    /// <summary>The --model directory when it is a DeepSeek-VL2 one (config.json model_type deepseek_vl_v2), else null.</summary>
    public static string? DeepSeekVl2Dir(string? model) =>
        model != null && File.Exists(Path.Combine(model, "config.json"))
        && Furnace.Models.DeepSeekVl2.DeepSeekVl2Config.IsDeepSeekVl2(Path.Combine(model, "config.json")) ? model : null;

    /// <summary>A CLIP directory (layer -2 hidden states, CLS dropped), an .onnx file, or a directory holding ResNet18.onnx (7x7 grid).</summary>
    public static IVisionEncoder OpenEncoder(string path)
    {
        if (File.Exists(path))
        {
            if (!path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) throw new FurnaceException($"{path}: a vision encoder is a CLIP directory or an .onnx file");
            return new OnnxVisionEncoder(new OnnxImageEncoder(new OnnxEncoderConfig(path) { OutputKind = OnnxOutputKind.Grid }));
        }
        if (!Directory.Exists(path)) throw new FurnaceException($"{path}: no such vision encoder (a CLIP directory or an .onnx file)");
        if (File.Exists(Path.Combine(path, ResNet18.ModelFile))) return new OnnxVisionEncoder(ResNet18.Open(path, OnnxOutputKind.Grid));
        return ClipVisionEncoder.Load(path);
    }

    public static RgbImage LoadImage(string path) => DataUrl.IsDataUrl(path) ? ImageDecoder.DecodeDataUrl(path) : ImageDecoder.Load(path);

    public static string Label(string path) => DataUrl.IsDataUrl(path) ? "data URL" : path;
}
