// The validated shape of a DeepSeek-VL2 checkpoint (config.json, model_type deepseek_vl_v2): the SigLIP tower's
// parameters, the downsample_mlp_gelu projector, the DeepSeek-V2/V3 MoE decoder, and the tile token format.
// Missing keys take the defaults of DeepseekVLV2Config / VisionEncoderConfig / MlpProjectorConfig
// (modeling_deepseek_vl_v2.py at DeepSeek-VL2 ef9f91e) — the published files rely on them (deepseek-vl2-tiny's
// projector_config holds only n_embed) — except tile_tag, whose default there ("tile_tag") makes the model raise.
using System.Text;
using System.Text.Json;
using Furnace.Formats.HfConfig;
using Furnace.Models.DeepSeek;

namespace Furnace.Models.DeepSeekVl2;

/// <summary>Where the global view goes relative to the local tiles in the image token sequence.</summary>
public enum GlobalViewPosition
{
    /// <summary>global rows, view separator, local rows.</summary>
    Head,

    /// <summary>local rows, view separator, global rows.</summary>
    Tail,
}

/// <summary>VisionEncoderConfig: the SigLIP ViT (timm VisionTransformer) the checkpoint's vision.* tensors hold.</summary>
public sealed record DeepSeekVl2VisionConfig(
    string ModelName, int ImageSize, int PatchSize, int Width, int Layers, int Heads, double MlpRatio, string GlobalPool, bool ClassToken)
{
    /// <summary>timm's Mlp hidden width: int(width · mlp_ratio) (SO400M: 4304).</summary>
    public int MlpDim => (int)(Width * MlpRatio);

    /// <summary>Patches per side of one view (384 / 14 = 27).</summary>
    public int GridSide => ImageSize / PatchSize;
}

/// <summary>MlpProjectorConfig of type downsample_mlp_gelu: a ratio×ratio unfold of the patch grid, then
/// Linear(input_dim·ratio², n_embed·mlp_ratio), (GELU, Linear)×(depth − 2), GELU, Linear(·, n_embed).</summary>
public sealed record DeepSeekVl2ProjectorConfig(int InputDim, int NEmbed, int Depth, int MlpRatio, int DownsampleRatio)
{
    /// <summary>Linear layers in the Sequential: depth, but never fewer than two (depth 1 still builds two).</summary>
    public int LinearCount => Math.Max(2, Depth);

    public int HiddenDim => NEmbed * MlpRatio;

    public int UnfoldedDim => InputDim * DownsampleRatio * DownsampleRatio;
}

public sealed record DeepSeekVl2Config(
    DeepSeekVl2VisionConfig Vision,
    DeepSeekVl2ProjectorConfig Projector,
    DeepSeekConfig Language,
    (int Width, int Height)[] CandidateResolutions,
    GlobalViewPosition GlobalViewPos)
{
    /// <summary>True when config.json is a DeepSeek-VL2 one (model_type deepseek_vl_v2 or DeepseekVLV2ForCausalLM).</summary>
    public static bool IsDeepSeekVl2(string configPath)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(configPath), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return false;
            if (root.TryGetProperty("model_type", out var mt) && mt.ValueKind == JsonValueKind.String && mt.GetString() == "deepseek_vl_v2") return true;
            return root.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array && a.GetArrayLength() > 0
                && a[0].ValueKind == JsonValueKind.String && a[0].GetString() == "DeepseekVLV2ForCausalLM";
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>From a model directory (its config.json) or the file itself.</summary>
    public static DeepSeekVl2Config Load(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        return FromJson(DeepSeekVl2Json.Read(file, DeepSeekVl2JsonContext.Default.DeepSeekVl2ConfigJson), file);
    }

    public static DeepSeekVl2Config Parse(string json, string source) =>
        FromJson(DeepSeekVl2Json.Parse(Encoding.UTF8.GetBytes(json), source, DeepSeekVl2JsonContext.Default.DeepSeekVl2ConfigJson), source);

    public static DeepSeekVl2Config FromJson(DeepSeekVl2ConfigJson raw, string source)
    {
        if (raw.ModelType is { } mt && mt != "deepseek_vl_v2")
            throw new FurnaceException($"{source}: 'model_type' is '{mt}', not a DeepSeek-VL2 checkpoint (deepseek_vl_v2)");

        var v = raw.VisionConfig ?? new DeepSeekVl2VisionJson();
        var vision = new DeepSeekVl2VisionConfig(
            v.ModelName ?? "siglip_large_patch16_384", v.ImageSize ?? 384, v.PatchSize ?? 16, v.Width ?? 1024, v.Layers ?? 24,
            v.Heads ?? 16, v.MlpRatio ?? 4, v.GlobalPool ?? "map", v.ClassToken ?? false);
        Positive(vision.ImageSize, "vision_config.image_size");
        Positive(vision.PatchSize, "vision_config.patch_size");
        Positive(vision.Width, "vision_config.width");
        Positive(vision.Layers, "vision_config.layers");
        Positive(vision.Heads, "vision_config.heads");
        if (vision.MlpRatio <= 0) throw new FurnaceException($"{source}: 'vision_config.mlp_ratio' must be positive, not {vision.MlpRatio}");
        if (vision.Width % vision.Heads != 0) throw new FurnaceException($"{source}: 'vision_config.width' {vision.Width} is not divisible by 'vision_config.heads' {vision.Heads}");
        if (vision.PatchSize > vision.ImageSize)
            throw new FurnaceException($"{source}: 'vision_config.patch_size' {vision.PatchSize} is larger than 'vision_config.image_size' {vision.ImageSize}");
        if (vision.ClassToken) throw new FurnaceException($"{source}: 'vision_config.class_token' true is not supported (DeepSeek-VL2 towers have none)");

        var p = raw.ProjectorConfig ?? new DeepSeekVl2ProjectorJson();
        string type = p.ProjectorType ?? "downsample_mlp_gelu";
        if (type != "downsample_mlp_gelu")
            throw new FurnaceException($"{source}: 'projector_config.projector_type' '{type}' is not supported (DeepSeek-VL2: downsample_mlp_gelu)");
        if (p.TokenPooling == true) throw new FurnaceException($"{source}: 'projector_config.token_pooling' true is not supported");
        var projector = new DeepSeekVl2ProjectorConfig(p.InputDim ?? 1152, p.NEmbed ?? 2048, p.Depth ?? 2, p.MlpRatio ?? 1, p.DownsampleRatio ?? 2);
        Positive(projector.InputDim, "projector_config.input_dim");
        Positive(projector.NEmbed, "projector_config.n_embed");
        Positive(projector.Depth, "projector_config.depth");
        Positive(projector.MlpRatio, "projector_config.mlp_ratio");
        Positive(projector.DownsampleRatio, "projector_config.downsample_ratio");
        if (projector.InputDim != vision.Width)
            throw new FurnaceException($"{source}: 'projector_config.input_dim' {projector.InputDim} differs from 'vision_config.width' {vision.Width}");

        string tag = raw.TileTag ?? throw new FurnaceException($"{source}: missing 'tile_tag' (DeepSeek-VL2 checkpoints say \"2D\")");
        if (tag != "2D")
            throw new FurnaceException(tag == "1D"
                ? $"{source}: 'tile_tag' \"1D\" (tile indicator embeddings, abandoned in DeepSeek's code) is not supported (2D)"
                : $"{source}: 'tile_tag' '{tag}' is not supported (2D)");
        var pos = (raw.GlobalViewPos ?? "head") switch
        {
            "head" => GlobalViewPosition.Head,
            "tail" => GlobalViewPosition.Tail,
            var g => throw new FurnaceException($"{source}: 'global_view_pos' '{g}' is not supported (head, tail)"),
        };
        var resolutions = raw.CandidateResolutions is null ? [(384, 384)] : DeepSeekVl2Json.Resolutions(raw.CandidateResolutions, source, "candidate_resolutions");

        var language = ParseLanguage(raw.LanguageConfig, source);
        if (language.Dim != projector.NEmbed)
            throw new FurnaceException($"{source}: 'projector_config.n_embed' {projector.NEmbed} differs from 'language_config.hidden_size' {language.Dim}");
        return new DeepSeekVl2Config(vision, projector, language, resolutions, pos);

        void Positive(int value, string key)
        {
            if (value <= 0) throw new FurnaceException($"{source}: '{key}' must be positive, not {value}");
        }
    }

    private static DeepSeekConfig ParseLanguage(JsonElement? element, string source)
    {
        if (element is not { ValueKind: JsonValueKind.Object } e) throw new FurnaceException($"{source}: missing 'language_config' (an object)");
        string where = $"{source} language_config";
        HfModelConfig hf = HfConfigFile.Parse(Encoding.UTF8.GetBytes(e.GetRawText()), where);
        return DeepSeekConfig.FromHf(hf, where);
    }
}
