// The validated shape of a LLaVA model (Liu et al. 2023; transformers configuration_llava.py LlavaConfig): a CLIP
// vision tower, which hidden state it hands over (vision_feature_layer, default -2, and
// vision_feature_select_strategy, "default" drops CLS), the projector (projector_hidden_act "gelu" = the two-layer
// mlp2x_gelu of LLaVA-1.5) and the decoder (text_config, model_type llama or qwen2). image_token_index is the id
// of the <image> placeholder that the processor expands into image_seq_length feature slots.
using System.Text.Json;
using Furnace.Formats.HfConfig;
using Furnace.Models.Clip;
using Furnace.Models.Llama;
using Furnace.Models.Projectors;

namespace Furnace.Models.Vlm;

public sealed record LlavaConfig
{
    /// <summary>The CLIP vision tower; null when OnnxVision names a frozen ONNX encoder instead.</summary>
    public ClipVisionConfig? Vision { get; init; }

    /// <summary>A frozen ONNX encoder (vision_config model_type onnx_resnet18, our extension), or null for CLIP.</summary>
    public OnnxVisionSpec? OnnxVision { get; init; }

    /// <summary>Width of the vision features the projector takes.</summary>
    public int VisionHiddenSize => OnnxVision?.HiddenSize ?? Vision!.HiddenSize;

    public required LlamaConfig Text { get; init; }

    /// <summary>Id of the &lt;image&gt; token (LLaVA-1.5: 32000).</summary>
    public int ImageTokenIndex { get; init; } = 32000;

    /// <summary>Index into the vision hidden states; negative counts from the end (-2: the input of the last layer).</summary>
    public int VisionFeatureLayer { get; init; } = -2;

    public VisionFeatureStrategy FeatureStrategy { get; init; } = VisionFeatureStrategy.Default;

    public ProjectorKind Projector { get; init; } = ProjectorKind.Mlp2xGelu;

    /// <summary>Feature rows per image: patches (default strategy) or 1 + patches (full).</summary>
    public int ImageSeqLength => OnnxVision?.Tokens ?? Vision!.Patches + (FeatureStrategy == VisionFeatureStrategy.Full ? 1 : 0);

    /// <summary>Reads the config.json of a LlavaForConditionalGeneration directory (or the file itself).</summary>
    public static LlavaConfig FromHuggingFace(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        if (!File.Exists(file)) throw new FurnaceException($"{file}: file not found (a LLaVA model directory needs config.json)");
        return Parse(File.ReadAllBytes(file), file);
    }

    public static LlavaConfig Parse(ReadOnlySpan<byte> json, string source)
    {
        HfLlavaConfig raw;
        try
        {
            raw = JsonSerializer.Deserialize(json, HfLlavaConfigJsonContext.Default.HfLlavaConfig)
                ?? throw new FurnaceFormatException(source, "is 'null', not a JSON object");
        }
        catch (JsonException e)
        {
            throw new FurnaceFormatException(source, $"not a valid LLaVA config ({e.Message})");
        }
        string? arch = raw.Architectures is { Length: > 0 } a ? a[0] : null;
        if (arch is not (null or "LlavaForConditionalGeneration") || (arch == null && raw.ModelType != "llava"))
            throw new FurnaceException($"{source}: '{arch ?? raw.ModelType ?? "unknown"}' is not LlavaForConditionalGeneration (model_type llava)");
        if (raw.VisionConfig is not { ValueKind: JsonValueKind.Object } vc) throw new FurnaceException($"{source}: missing field 'vision_config'");
        if (raw.TextConfig is not { ValueKind: JsonValueKind.Object } tc) throw new FurnaceException($"{source}: missing field 'text_config'");

        LlamaConfig text = LlamaConfig.FromHuggingFace(HfConfigFile.Parse(JsonSerializer.SerializeToUtf8Bytes(tc), source + " (text_config)"), source + " (text_config)");
        ProjectorKind projectorKind = raw.ProjectorHiddenAct switch
        {
            null or "gelu" => ProjectorKind.Mlp2xGelu,
            var s => throw new FurnaceException($"{source}: projector_hidden_act '{s}' is not supported (gelu)"),
        };
        if (vc.TryGetProperty("model_type", out var vt) && vt.ValueKind == JsonValueKind.String && vt.GetString() == OnnxVisionSpec.ResNet18Type)
        {
            var onnx = new LlavaConfig
            {
                OnnxVision = OnnxVisionSpec.Parse(vc, source),
                Text = text,
                ImageTokenIndex = raw.ImageTokenIndex ?? raw.ImageTokenId ?? 32000,
                Projector = projectorKind,
            };
            if (raw.ImageSeqLength is int m && m != onnx.ImageSeqLength)
                throw new FurnaceException($"{source}: image_seq_length {m} disagrees with the vision encoder's {onnx.ImageSeqLength} feature tokens");
            return onnx;
        }

        // vision_config is a CLIPVisionConfig: read it as a vision-only CLIP config
        var visionNode = System.Text.Json.Nodes.JsonObject.Create(vc)!;
        visionNode.Remove("architectures");
        visionNode["model_type"] = "clip_vision_model";
        ClipConfig clip = ClipConfig.ParseHf(System.Text.Encoding.UTF8.GetBytes(visionNode.ToJsonString()), source + " (vision_config)");

        int layer = -2;
        if (raw.VisionFeatureLayer is { } l)
        {
            if (l.ValueKind != JsonValueKind.Number || !l.TryGetInt32(out layer))
                throw new FurnaceException($"{source}: vision_feature_layer {l.GetRawText()} is not supported (a single layer index)");
        }
        VisionFeatureStrategy strategy = raw.VisionFeatureSelectStrategy switch
        {
            null or "default" => VisionFeatureStrategy.Default,
            "full" => VisionFeatureStrategy.Full,
            var s => throw new FurnaceException($"{source}: vision_feature_select_strategy '{s}' is not supported (default, full)"),
        };
        var c = new LlavaConfig
        {
            Vision = clip.Vision,
            Text = text,
            ImageTokenIndex = raw.ImageTokenIndex ?? raw.ImageTokenId ?? 32000,
            VisionFeatureLayer = layer,
            FeatureStrategy = strategy,
            Projector = projectorKind,
        };
        int layers = clip.Vision.Layers;
        if (layer < -(layers + 1) || layer > layers)
            throw new FurnaceException($"{source}: vision_feature_layer {layer} is outside the {layers + 1} hidden states of the vision tower");
        if (raw.ImageSeqLength is int n && n != c.ImageSeqLength)
            throw new FurnaceException($"{source}: image_seq_length {n} disagrees with the vision tower's {c.ImageSeqLength} feature tokens");
        return c;
    }

    /// <summary>The config.json transformers would write (LlavaForConditionalGeneration), for checkpoints we make.</summary>
    public byte[] ToHfConfigJson(ClipConfig visionSource) => ToHfConfigJson(System.Text.Json.Nodes.JsonNode.Parse(visionSource.ToHfConfigJson())!);

    /// <summary>The config.json of a model whose vision side is an ONNX encoder (vision_config from OnnxVision).</summary>
    public byte[] ToHfConfigJson() => ToHfConfigJson(OnnxVision?.ToJson() ?? throw new InvalidOperationException("a CLIP-tower config needs its ClipConfig"));

    private byte[] ToHfConfigJson(System.Text.Json.Nodes.JsonNode vision)
    {
        var node = new System.Text.Json.Nodes.JsonObject
        {
            ["architectures"] = new System.Text.Json.Nodes.JsonArray("LlavaForConditionalGeneration"),
            ["model_type"] = "llava",
            ["image_token_index"] = ImageTokenIndex,
            ["vision_feature_layer"] = VisionFeatureLayer,
            ["vision_feature_select_strategy"] = FeatureStrategy == VisionFeatureStrategy.Full ? "full" : "default",
            ["projector_hidden_act"] = "gelu",
            ["image_seq_length"] = ImageSeqLength,
            ["vision_config"] = vision,
            ["text_config"] = System.Text.Json.Nodes.JsonNode.Parse(Text.ToHfConfigJson()),
        };
        return System.Text.Encoding.UTF8.GetBytes(node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }
}
