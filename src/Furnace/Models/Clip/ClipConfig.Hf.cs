// config.json of a Hugging Face CLIP checkpoint <-> ClipConfig, with transformers' defaults
// (models/clip/configuration_clip.py): CLIPModel configs nest text_config / vision_config (older files put the
// non-default fields in text_config_dict / vision_config_dict, which win, as CLIPConfig.__init__ merges them);
// CLIPVisionModel(WithProjection) configs (model_type clip_vision_model) hold the vision fields at the top level.
// A CLIPVisionModel loaded from a full CLIPModel directory (as LLaVA does) uses its vision_config.
using System.Text.Json;
using Furnace.Formats.HfConfig;

namespace Furnace.Models.Clip;

public sealed partial record ClipConfig
{
    /// <summary>Reads and validates the config.json of a CLIP checkpoint (a directory or the file itself).</summary>
    public static ClipConfig FromHuggingFace(string path)
    {
        string file = Directory.Exists(path) ? Path.Combine(path, "config.json") : path;
        byte[] json;
        try
        {
            json = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FurnaceException($"{file}: file not found");
        }
        return ParseHf(json, file);
    }

    public static ClipConfig ParseHf(ReadOnlySpan<byte> json, string source)
    {
        HfClipConfig raw;
        HfClipTowerConfig top;
        try
        {
            raw = JsonSerializer.Deserialize(json, HfClipConfigJsonContext.Default.HfClipConfig)
                ?? throw new FurnaceFormatException(source, "is 'null', not a JSON object");
            top = JsonSerializer.Deserialize(json, HfClipConfigJsonContext.Default.HfClipTowerConfig)!;
        }
        catch (JsonException e)
        {
            string where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path[2..]}";
            throw new FurnaceFormatException(source, $"not a valid CLIP config{where} ({e.Message})");
        }

        string? arch = raw.Architectures is { Length: > 0 } a ? a[0] : null;
        ClipArchitecture kind = arch switch
        {
            "CLIPModel" => ClipArchitecture.ClipModel,
            "CLIPVisionModel" => ClipArchitecture.VisionModel,
            "CLIPVisionModelWithProjection" => ClipArchitecture.VisionModelWithProjection,
            null => raw.ModelType switch
            {
                "clip" => ClipArchitecture.ClipModel,
                "clip_vision_model" => ClipArchitecture.VisionModel,
                null => throw new FurnaceException($"{source}: neither 'architectures' nor 'model_type' says what model this is"),
                var m => throw new FurnaceException($"{source}: model_type '{m}' is not CLIP (clip, clip_vision_model)"),
            },
            _ => throw new FurnaceException($"{source}: architecture '{arch}' is not supported (CLIPModel, CLIPVisionModel, CLIPVisionModelWithProjection)"),
        };

        // a vision-only config holds the tower at the top level unless it is a full CLIPConfig
        bool nested = raw.VisionConfig != null || raw.VisionConfigDict != null || raw.ModelType == "clip";
        HfClipTowerConfig vision = nested ? (raw.VisionConfig ?? new HfClipTowerConfig()).Overridden(raw.VisionConfigDict) : top;
        ClipTextConfig? text = null;
        if (kind == ClipArchitecture.ClipModel)
            text = ToText((raw.TextConfig ?? new HfClipTowerConfig()).Overridden(raw.TextConfigDict), source);

        int? projection = kind switch
        {
            ClipArchitecture.ClipModel => raw.ProjectionDim ?? 512,
            ClipArchitecture.VisionModelWithProjection => (nested ? raw.ProjectionDim : null) ?? vision.ProjectionDim ?? 512,
            _ => null,
        };
        return new ClipConfig
        {
            Architecture = kind,
            Vision = ToVision(vision, source),
            Text = text,
            ProjectionDim = projection,
            LogitScaleInit = (float)(raw.LogitScaleInitValue ?? 2.6592),
        }.Validated(source);
    }

    private static ClipVisionConfig ToVision(HfClipTowerConfig r, string source)
    {
        var d = new ClipVisionConfig();
        return new ClipVisionConfig
        {
            HiddenSize = r.HiddenSize ?? d.HiddenSize,
            IntermediateSize = r.IntermediateSize ?? d.IntermediateSize,
            Layers = r.NumHiddenLayers ?? d.Layers,
            Heads = r.NumAttentionHeads ?? d.Heads,
            ImageSize = r.ImageSize ?? d.ImageSize,
            PatchSize = r.PatchSize ?? d.PatchSize,
            NumChannels = r.NumChannels ?? d.NumChannels,
            LayerNormEps = (float)(r.LayerNormEps ?? d.LayerNormEps),
            Activation = Activation(r.HiddenAct, source),
        };
    }

    private static ClipTextConfig ToText(HfClipTowerConfig r, string source)
    {
        var d = new ClipTextConfig();
        return new ClipTextConfig
        {
            VocabSize = r.VocabSize ?? d.VocabSize,
            HiddenSize = r.HiddenSize ?? d.HiddenSize,
            IntermediateSize = r.IntermediateSize ?? d.IntermediateSize,
            Layers = r.NumHiddenLayers ?? d.Layers,
            Heads = r.NumAttentionHeads ?? d.Heads,
            MaxPositions = r.MaxPositionEmbeddings ?? d.MaxPositions,
            LayerNormEps = (float)(r.LayerNormEps ?? d.LayerNormEps),
            Activation = Activation(r.HiddenAct, source),
            BosTokenId = r.BosTokenId ?? d.BosTokenId,
            EosTokenId = r.EosTokenId ?? d.EosTokenId,
            PadTokenId = r.PadTokenId ?? d.PadTokenId,
        };
    }

    /// <summary>hidden_act as transformers' ACT2FN maps it; null is the model family's default (CLIP: quick_gelu, SigLIP: gelu_pytorch_tanh).</summary>
    internal static ClipActivation Activation(string? name, string source, ClipActivation fallback = ClipActivation.QuickGelu) => name switch
    {
        null => fallback,
        "quick_gelu" => ClipActivation.QuickGelu,
        "gelu" => ClipActivation.GeluErf,
        "gelu_new" or "gelu_pytorch_tanh" or "gelu_fast" => ClipActivation.GeluTanh,
        _ => throw new FurnaceException($"{source}: hidden_act '{name}' is not supported (quick_gelu, gelu, gelu_new, gelu_pytorch_tanh)"),
    };

    private static string ActivationName(ClipActivation a) => a switch
    {
        ClipActivation.QuickGelu => "quick_gelu",
        ClipActivation.GeluErf => "gelu",
        _ => "gelu_pytorch_tanh",
    };

    /// <summary>The config.json transformers would write for this model (CLIPConfig, or CLIPVisionConfig when vision-only).</summary>
    public byte[] ToHfConfigJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("architectures");
            w.WriteStringValue(Architecture switch
            {
                ClipArchitecture.ClipModel => "CLIPModel",
                ClipArchitecture.VisionModel => "CLIPVisionModel",
                _ => "CLIPVisionModelWithProjection",
            });
            w.WriteEndArray();
            if (Architecture == ClipArchitecture.ClipModel)
            {
                w.WriteString("model_type", "clip");
                w.WriteNumber("projection_dim", ProjectionDim ?? 512);
                w.WriteNumber("logit_scale_init_value", LogitScaleInit);
                w.WriteStartObject("text_config");
                WriteText(w, Text!);
                w.WriteEndObject();
                w.WriteStartObject("vision_config");
                WriteVision(w);
                w.WriteEndObject();
            }
            else
            {
                WriteVision(w);
                if (ProjectionDim is int p) w.WriteNumber("projection_dim", p);
            }
            w.WriteString("torch_dtype", "float32");
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    private void WriteVision(Utf8JsonWriter w)
    {
        ClipVisionConfig v = Vision;
        w.WriteString("model_type", "clip_vision_model");
        w.WriteNumber("hidden_size", v.HiddenSize);
        w.WriteNumber("intermediate_size", v.IntermediateSize);
        w.WriteNumber("num_hidden_layers", v.Layers);
        w.WriteNumber("num_attention_heads", v.Heads);
        w.WriteNumber("image_size", v.ImageSize);
        w.WriteNumber("patch_size", v.PatchSize);
        w.WriteNumber("num_channels", v.NumChannels);
        w.WriteNumber("layer_norm_eps", v.LayerNormEps);
        w.WriteString("hidden_act", ActivationName(v.Activation));
    }

    private static void WriteText(Utf8JsonWriter w, ClipTextConfig t)
    {
        w.WriteString("model_type", "clip_text_model");
        w.WriteNumber("vocab_size", t.VocabSize);
        w.WriteNumber("hidden_size", t.HiddenSize);
        w.WriteNumber("intermediate_size", t.IntermediateSize);
        w.WriteNumber("num_hidden_layers", t.Layers);
        w.WriteNumber("num_attention_heads", t.Heads);
        w.WriteNumber("max_position_embeddings", t.MaxPositions);
        w.WriteNumber("layer_norm_eps", t.LayerNormEps);
        w.WriteString("hidden_act", ActivationName(t.Activation));
        w.WriteNumber("bos_token_id", t.BosTokenId);
        w.WriteNumber("eos_token_id", t.EosTokenId);
        w.WriteNumber("pad_token_id", t.PadTokenId);
    }
}
