// The validated shape of a DeepSeek-VL checkpoint (deepseek_vl/models/modeling_vlm.py MultiModalityConfig,
// model_type "multi_modality", MultiModalityCausalLM): vision_config {cls, params} (CLIPVisionTower with a SigLIP
// model_name; the tower sizes from DeepSeek's SigLIP_MODEL_CONFIG table or explicit width/layers/heads/mlp_ratio/
// patch_size keys; image_size, select_layer, optional pixel_mean/pixel_std normalised inside the tower),
// aligner_config {cls MlpProjector, params {projector_type, depth, input_dim, n_embed}} and language_config (Llama).
// processor_config.json gives image_tag, num_image_tokens and sft_format. The 7B hybrid (vision_config.cls
// HybridVisionTower: params.high_res_cfg a SAM tower, params.low_res_cfg a SigLIP tower; aligner
// low_high_hybrid_split_mlp_gelu) fills Vision/PixelMean/PixelStd from low_res_cfg and HighRes/HybridAligner.
// Not yet: the transformers-native deepseek_vl layout.
using System.Text.Json;
using Furnace.Formats.HfConfig;
using Furnace.Models.Llama;
using Furnace.Models.Sam;
using Furnace.Models.Siglip;

namespace Furnace.Models.DeepSeekVl;

public enum DeepSeekVlAligner
{
    /// <summary>projector_type "linear": one Linear at aligner.layers.</summary>
    Linear,

    /// <summary>projector_type "mlp_gelu": Linear, then (depth − 1) × (GELU, Linear) at aligner.layers.{0, 2, …}.</summary>
    MlpGelu,

    /// <summary>projector_type "low_high_hybrid_split_mlp_gelu" (the 7B hybrid): HybridAligner.</summary>
    HybridSplit,
}

public sealed record DeepSeekVlConfig
{
    public const string ModelType = "multi_modality";

    public required SiglipVisionConfig Vision { get; init; }

    /// <summary>The tower's model_name (siglip_large_patch16_384, …) or null when the sizes were given explicitly.</summary>
    public string? VisionModelName { get; init; }

    /// <summary>The tower's own Normalize (params pixel_mean / pixel_std), applied after the image processor; null when absent.</summary>
    public double[]? PixelMean { get; init; }

    public double[]? PixelStd { get; init; }

    public required DeepSeekVlAligner Aligner { get; init; }

    public int AlignerDepth { get; init; } = 1;

    /// <summary>The hybrid's SAM tower (vision_config.params.high_res_cfg); null for a CLIPVisionTower checkpoint.</summary>
    public SamVitConfig? HighRes { get; init; }

    /// <summary>The hybrid's aligner; set exactly when Aligner is HybridSplit.</summary>
    public HybridAlignerConfig? HybridAligner { get; init; }

    /// <summary>The side of the image the processor makes: the SAM tower's for the hybrid, else the SigLIP tower's.</summary>
    public int InputSize => HighRes?.ImageSize ?? Vision.ImageSize;

    public required LlamaConfig Text { get; init; }

    /// <summary>
    /// Whether config.json at path is a DeepSeek-VL config: model_type multi_modality, or transformers' port
    /// (deepseek_vl, deepseek_vl_hybrid), which the loader refuses with a message.
    /// </summary>
    public static bool IsDeepSeekVl(string dir)
    {
        string file = Path.Combine(dir, "config.json");
        if (!File.Exists(file)) return false;
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(file));
            return doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("model_type", out var mt)
                && mt.ValueKind == JsonValueKind.String && mt.GetString() is ModelType or "deepseek_vl" or "deepseek_vl_hybrid";
        }
        catch (JsonException)
        {
            return false;
        }
    }

    public static DeepSeekVlConfig FromHuggingFace(string dir)
    {
        string file = Directory.Exists(dir) ? Path.Combine(dir, "config.json") : dir;
        if (!File.Exists(file)) throw new FurnaceException($"{file}: file not found (a DeepSeek-VL directory needs config.json)");
        return Parse(File.ReadAllBytes(file), file);
    }

    public static DeepSeekVlConfig Parse(ReadOnlySpan<byte> json, string source)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray());
        }
        catch (JsonException e)
        {
            throw new FurnaceFormatException(source, $"not valid JSON ({e.Message})");
        }
        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new FurnaceFormatException(source, "not a JSON object");
            string? mt = Str(root, "model_type", source);
            if (mt is "deepseek_vl" or "deepseek_vl_hybrid")
                throw new FurnaceException($"{source}: model_type '{mt}' (transformers' own DeepseekVL port) is not supported yet; use DeepSeek's original layout (model_type '{ModelType}', as deepseek-ai/deepseek-vl-1.3b-chat ships)");
            if (mt != ModelType) throw new FurnaceException($"{source}: model_type '{mt}' is not DeepSeek-VL's '{ModelType}'");
            JsonElement vc = Obj(root, "vision_config", source), ac = Obj(root, "aligner_config", source), lc = Obj(root, "language_config", source);

            // vision: modeling_vlm.model_name_to_cls matches by substring
            string vcls = Str(vc, "cls", source, "vision_config.") ?? throw new FurnaceException($"{source}: missing field 'vision_config.cls'");
            bool hybrid = vcls.Contains("HybridVisionTower", StringComparison.Ordinal);
            if (!hybrid && !vcls.Contains("CLIPVisionTower", StringComparison.Ordinal))
                throw new FurnaceException($"{source}: vision_config.cls '{vcls}' is not a known vision tower (CLIPVisionTower, HybridVisionTower)");
            JsonElement vp = Obj(vc, "params", source, "vision_config.");
            SamVitConfig? highRes = null;
            if (hybrid)
            {
                // HybridVisionTower(high_res_cfg, low_res_cfg): the SAM tower, and the SigLIP tower read as a CLIPVisionTower's params
                highRes = SamVitConfig.FromParams(Obj(vp, "high_res_cfg", source, "vision_config.params."), source);
                vp = Obj(vp, "low_res_cfg", source, "vision_config.params.");
            }
            var (vision, modelName) = ParseTower(vp, source);
            double[]? mean = Triple(vp, "pixel_mean", source), std = Triple(vp, "pixel_std", source);
            if ((mean == null) != (std == null)) throw new FurnaceException($"{source}: vision_config.params needs both pixel_mean and pixel_std or neither");

            // aligner
            string acls = Str(ac, "cls", source, "aligner_config.") ?? throw new FurnaceException($"{source}: missing field 'aligner_config.cls'");
            if (!acls.Contains("MlpProjector", StringComparison.Ordinal))
                throw new FurnaceException($"{source}: aligner_config.cls '{acls}' is not a known aligner (MlpProjector)");
            JsonElement ap = Obj(ac, "params", source, "aligner_config.");
            string ptype = Str(ap, "projector_type", source, "aligner_config.params.") ?? throw new FurnaceException($"{source}: missing field 'aligner_config.params.projector_type'");
            if (hybrid != (ptype == HybridAlignerConfig.ProjectorType))
                throw new FurnaceException(hybrid
                    ? $"{source}: aligner_config.params.projector_type '{ptype}' does not fit vision_config.cls 'HybridVisionTower' (expected '{HybridAlignerConfig.ProjectorType}')"
                    : $"{source}: aligner_config.params.projector_type '{ptype}' needs vision_config.cls 'HybridVisionTower'");
            HybridAlignerConfig? hybridAligner = hybrid ? HybridAlignerConfig.FromParams(ap, source) : null;
            if (hybridAligner is { Depth: < 2 })
                throw new FurnaceException($"{source}: aligner_config.params.depth {hybridAligner.Depth} is not supported for {HybridAlignerConfig.ProjectorType} (2 or more)");
            if (highRes != null && highRes.OutputChannels != hybridAligner!.InputDim)
                throw new FurnaceException($"{source}: aligner_config.params.input_dim {hybridAligner.InputDim} differs from the SAM tower's {highRes.OutputChannels} output channels");
            int depth = Int(ap, "depth", source, "aligner_config.params.") ?? 1;
            DeepSeekVlAligner aligner = ptype switch
            {
                "linear" => DeepSeekVlAligner.Linear,
                "mlp_gelu" when depth is 1 or 2 => DeepSeekVlAligner.MlpGelu,
                "mlp_gelu" => throw new FurnaceException($"{source}: aligner_config.params.depth {depth} is not supported for mlp_gelu (1 or 2)"),
                HybridAlignerConfig.ProjectorType => DeepSeekVlAligner.HybridSplit,
                _ => throw new FurnaceException($"{source}: aligner_config.params.projector_type '{ptype}' is not supported (linear, mlp_gelu)"),
            };

            // language model: a LlamaConfig
            var lnode = System.Text.Json.Nodes.JsonObject.Create(lc)!;
            lnode.Remove("architectures");
            lnode["model_type"] = "llama";
            string lsource = source + " (language_config)";
            LlamaConfig text = LlamaConfig.FromHuggingFace(HfConfigFile.Parse(System.Text.Encoding.UTF8.GetBytes(lnode.ToJsonString()), lsource), lsource);

            int inDim = Int(ap, "input_dim", source, "aligner_config.params.") ?? throw new FurnaceException($"{source}: missing field 'aligner_config.params.input_dim'");
            int nEmbed = Int(ap, "n_embed", source, "aligner_config.params.") ?? throw new FurnaceException($"{source}: missing field 'aligner_config.params.n_embed'");
            if (inDim != vision.Width)
                throw new FurnaceException($"{source}: aligner_config.params.input_dim {inDim} differs from the vision tower's width {vision.Width}");
            if (nEmbed != text.Dim)
                throw new FurnaceException($"{source}: aligner_config.params.n_embed {nEmbed} differs from the language model's hidden_size {text.Dim}");
            return new DeepSeekVlConfig
            {
                Vision = vision.Validated(source + " (vision_config)"),
                VisionModelName = modelName,
                PixelMean = mean,
                PixelStd = std,
                Aligner = aligner,
                AlignerDepth = aligner == DeepSeekVlAligner.Linear ? 1 : depth,
                Text = text,
                HighRes = highRes,
                HybridAligner = hybridAligner,
            };
        }
    }

    // create_siglip_vit: sizes from the model_name table, explicit keys win; image_size defaults to CLIPVisionTower's 336
    private static (SiglipVisionConfig, string?) ParseTower(JsonElement p, string source)
    {
        const string at = "vision_config.params.";
        string? name = Str(p, "model_name", source, at);
        (int Width, int Layers, int Heads, int PatchSize, double MlpRatio)? preset = null;
        if (name != null)
        {
            if (name.StartsWith("sam", StringComparison.Ordinal))
                throw new FurnaceException($"{source}: {at}model_name '{name}' (a SAM tower, used by the 7B hybrid) is not supported yet");
            if (SiglipVisionConfig.DeepSeekModels.TryGetValue(name, out var t)) preset = t;
            else if (!(p.TryGetProperty("width", out _) && p.TryGetProperty("layers", out _)))
                throw new FurnaceException($"{source}: {at}model_name '{name}' is not a known SigLIP tower ({string.Join(", ", SiglipVisionConfig.DeepSeekModels.Keys)}) and no explicit width/layers/heads/mlp_ratio/patch_size are given");
        }
        int Need(string key, int? fromPreset) => Int(p, key, source, at) ?? fromPreset
            ?? throw new FurnaceException($"{source}: missing field '{at}{key}' (or a known model_name)");
        int width = Need("width", preset?.Width);
        double ratio = Num(p, "mlp_ratio", source, at) ?? preset?.MlpRatio ?? throw new FurnaceException($"{source}: missing field '{at}mlp_ratio' (or a known model_name)");
        var c = new SiglipVisionConfig
        {
            Width = width,
            Layers = Need("layers", preset?.Layers),
            Heads = Need("heads", preset?.Heads),
            PatchSize = Need("patch_size", preset?.PatchSize),
            MlpDim = SiglipVisionConfig.MlpDimOf(width, ratio),
            ImageSize = Int(p, "image_size", source, at) ?? 336,
            SelectLayer = Int(p, "select_layer", source, at) ?? -2,
        };
        return (c, name);
    }

    private static JsonElement Obj(JsonElement e, string key, string source, string at = "")
    {
        if (!e.TryGetProperty(key, out var v) || v.ValueKind != JsonValueKind.Object)
            throw new FurnaceException($"{source}: missing field '{at}{key}' (an object)");
        return v;
    }

    private static string? Str(JsonElement e, string key, string source, string at = "")
    {
        if (!e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw new FurnaceException($"{source}: '{at}{key}' must be a string");
        return v.GetString();
    }

    private static int? Int(JsonElement e, string key, string source, string at)
    {
        if (!e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int i)) throw new FurnaceException($"{source}: '{at}{key}' must be an integer");
        return i;
    }

    private static double? Num(JsonElement e, string key, string source, string at)
    {
        if (!e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number) throw new FurnaceException($"{source}: '{at}{key}' must be a number");
        return v.GetDouble();
    }

    private static double[]? Triple(JsonElement e, string key, string source)
    {
        if (!e.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() != 3 || v.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.Number))
            throw new FurnaceException($"{source}: 'vision_config.params.{key}' must be 3 numbers");
        return v.EnumerateArray().Select(x => x.GetDouble()).ToArray();
    }
}
