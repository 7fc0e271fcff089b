// Writes a CLIP vision tower (and a LLaVA mlp2x_gelu projector) as a llama.cpp mmproj GGUF, under the tensor names
// and metadata of llama.cpp's tools/mtmd (clip-impl.h TN_*; convert_image_encoder_to_gguf.py and
// convert_hf_to_gguf.py's LLaVA vision model):
//   vision_model.embeddings.patch_embedding.weight (d, 3, p, p) -> v.patch_embd.weight   ggml ne [p, p, 3, d]
//   vision_model.embeddings.class_embedding        -> v.class_embd;  position_embedding.weight -> v.position_embd.weight
//   vision_model.pre_layrnorm / post_layernorm     -> v.pre_ln / v.post_ln
//   encoder.layers.{i}.self_attn.{q,k,v,out}_proj  -> v.blk.{i}.attn_{q,k,v,out};  layer_norm1/2 -> ln1/ln2
//   mlp.fc1 / mlp.fc2                              -> ffn_up / ffn_down (convert_hf_to_gguf's orientation)
//   visual_projection.weight (bare CLIP)           -> visual_projection.weight
//   multi_modal_projector.linear_1 / linear_2      -> mm.0 / mm.2
// With a projector (LLaVA) only the layers up to the feature layer are stored, post_ln and visual_projection are
// dropped, and clip.vision.feature_layer holds the non-negative index, as llama.cpp's converter does. 2-D weights are
// written in the requested type; the patch kernel in F16 unless F32 is asked for; norms, biases, embeddings in F32.
using System.Text.Json;
using Furnace.Formats.Gguf;
using Furnace.Formats.Images;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.Clip;

/// <summary>A LLaVA projector to export: mm.0 (Hidden, d) and mm.2 (Out, Hidden), both with biases.</summary>
public sealed record MmprojProjectorShape(int Hidden, int Out);

public static class ClipMmprojExport
{
    /// <summary>Every tensor the header implies: (gguf name, HF name, row-major shape).</summary>
    public static IEnumerable<(string Gguf, string Hf, long[] Shape)> Tensors(MmprojHeader h, MmprojProjectorShape? projector, int? visualProjectionDim)
    {
        ClipVisionConfig v = h.Vision;
        long d = v.HiddenSize, f = v.IntermediateSize;
        const string t = "vision_model.";
        yield return ("v.patch_embd.weight", t + "embeddings.patch_embedding.weight", [d, v.NumChannels, v.PatchSize, v.PatchSize]);
        yield return ("v.class_embd", t + "embeddings.class_embedding", [d]);
        yield return ("v.position_embd.weight", t + "embeddings.position_embedding.weight", [v.Positions, d]);
        yield return ("v.pre_ln.weight", t + "pre_layrnorm.weight", [d]);
        yield return ("v.pre_ln.bias", t + "pre_layrnorm.bias", [d]);
        for (int i = 0; i < v.Layers; i++)
        {
            string g = $"v.blk.{i}.", hf = $"{t}encoder.layers.{i}.";
            foreach (var (gq, hq) in new[] { ("attn_q", "q_proj"), ("attn_k", "k_proj"), ("attn_v", "v_proj"), ("attn_out", "out_proj") })
            {
                yield return (g + gq + ".weight", hf + "self_attn." + hq + ".weight", [d, d]);
                yield return (g + gq + ".bias", hf + "self_attn." + hq + ".bias", [d]);
            }
            yield return (g + "ln1.weight", hf + "layer_norm1.weight", [d]);
            yield return (g + "ln1.bias", hf + "layer_norm1.bias", [d]);
            yield return (g + "ffn_up.weight", hf + "mlp.fc1.weight", [f, d]);
            yield return (g + "ffn_up.bias", hf + "mlp.fc1.bias", [f]);
            yield return (g + "ffn_down.weight", hf + "mlp.fc2.weight", [d, f]);
            yield return (g + "ffn_down.bias", hf + "mlp.fc2.bias", [d]);
            yield return (g + "ln2.weight", hf + "layer_norm2.weight", [d]);
            yield return (g + "ln2.bias", hf + "layer_norm2.bias", [d]);
        }
        if (projector is { } p)
        {
            yield return ("mm.0.weight", "multi_modal_projector.linear_1.weight", [p.Hidden, d]);
            yield return ("mm.0.bias", "multi_modal_projector.linear_1.bias", [p.Hidden]);
            yield return ("mm.2.weight", "multi_modal_projector.linear_2.weight", [p.Out, p.Hidden]);
            yield return ("mm.2.bias", "multi_modal_projector.linear_2.bias", [p.Out]);
            yield break;
        }
        yield return ("v.post_ln.weight", t + "post_layernorm.weight", [d]);
        yield return ("v.post_ln.bias", t + "post_layernorm.bias", [d]);
        if (visualProjectionDim is int pd) yield return ("visual_projection.weight", "visual_projection.weight", [pd, d]);
    }

    /// <summary>
    /// Writes the mmproj file. header.Vision.Layers is the number of layers stored (for LLaVA: the feature layer's
    /// index); hfTensor returns a tensor's floats (row-major) by its HF name relative to the vision tower's parent
    /// (vision_model.*, visual_projection.weight, multi_modal_projector.*).
    /// </summary>
    public static void Write(string path, MmprojHeader header, MmprojProjectorShape? projector, int? visualProjectionDim,
        Func<string, float[]> hfTensor, DType type)
    {
        if (!DTypes.IsWeightType(type))
            throw new FurnaceException($"mmproj weight type {DTypes.Name(type)} is not supported (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K … q6_K, iq4_nl, iq4_xs)");
        if ((projector != null) != (header.ProjectorType != null))
            throw new ArgumentException("the header's projector_type and the projector shape must agree");
        var w = new GgufWriter();
        header.Write(w, GgufFileType.OfSingleType(type));
        foreach (var (gguf, hf, shape) in Tensors(header, projector, visualProjectionDim))
        {
            bool patch = shape.Length == 4;
            DType tt = patch ? (type == DType.F32 ? DType.F32 : DType.F16)
                : shape.Length == 2 && gguf != "v.position_embd.weight" && shape[^1] % DTypes.BlockSize(type) == 0 ? type : DType.F32;
            long[] ggmlShape = shape.Reverse().ToArray();
            long rowLen = ggmlShape[0], rows = shape.Aggregate(1L, (a, b) => a * b) / rowLen;
            string hfName = hf;
            w.AddTensor(gguf, tt, ggmlShape, DTypes.RowBytes(tt, rowLen) * rows, s =>
            {
                float[] v = hfTensor(hfName);
                if (v.LongLength != rows * rowLen) throw new FurnaceException($"tensor '{hfName}' has {v.LongLength} values, expected {rows * rowLen}");
                var buf = new byte[DTypes.RowBytes(tt, rowLen)];
                for (long r = 0; r < rows; r++)
                {
                    Quantize.Row(buf, v.AsSpan((int)(r * rowLen), (int)rowLen), tt);
                    s.Write(buf);
                }
            });
        }
        w.Write(path);
    }

    /// <summary>
    /// Converts a Hugging Face directory: a CLIP checkpoint (CLIPModel / CLIPVisionModel[WithProjection]; a bare
    /// vision tower that our reader loads but llama.cpp's mtmd does not, it needs a projector) or a LLaVA checkpoint
    /// (LlavaForConditionalGeneration: vision_tower.*, multi_modal_projector.*, vision_feature_layer).
    /// </summary>
    public static void FromHuggingFace(string dir, string to, DType type)
    {
        string configFile = Path.Combine(dir, "config.json");
        if (!File.Exists(configFile)) throw new FurnaceException($"{configFile}: file not found");
        byte[] json = File.ReadAllBytes(configFile);
        using var doc = JsonDocument.Parse(json);
        JsonElement root = doc.RootElement;
        bool llava = root.TryGetProperty("model_type", out var mt) && mt.GetString() == "llava";
        float[] mean = [.. ImagePreprocessorConfig.OpenAiClipMean.Select(x => (float)x)], std = [.. ImagePreprocessorConfig.OpenAiClipStd.Select(x => (float)x)];
        if (File.Exists(Path.Combine(dir, PreprocessorConfigFile.FileName)))
        {
            var pre = PreprocessorConfigFile.Load(dir);
            if (pre.Mean is { } m) mean = [.. m.Select(x => (float)x)];
            if (pre.Std is { } s) std = [.. s.Select(x => (float)x)];
        }
        using ITensorSource source = SafeTensorsCheckpoint.Open(dir);
        var vb = new WeightLoader(source);
        string name = root.TryGetProperty("_name_or_path", out var np) && np.ValueKind == JsonValueKind.String ? np.GetString()! : Path.GetFileName(Path.GetFullPath(dir).TrimEnd('/'));
        if (!llava)
        {
            ClipConfig c = ClipConfig.ParseHf(json, configFile);
            int? visual = c.Architecture == ClipArchitecture.VisionModel ? null : c.ProjectionDim;
            var header = new MmprojHeader { Vision = c.Vision, ProjectionDim = visual ?? 0, ImageMean = mean, ImageStd = std, Name = name };
            Write(to, header, null, visual, n => Read(vb, n), type);
            return;
        }
        if (!root.TryGetProperty("vision_config", out var vc)) throw new FurnaceFormatException(configFile, "a LLaVA config needs vision_config");
        string visionJson = vc.GetRawText();
        if (!vc.TryGetProperty("model_type", out _)) visionJson = visionJson.TrimEnd().TrimEnd('}') + ", \"model_type\": \"clip_vision_model\"}";
        ClipVisionConfig vision = ClipConfig.ParseHf(System.Text.Encoding.UTF8.GetBytes(visionJson), configFile + " vision_config").Vision;
        int featureLayer = root.TryGetProperty("vision_feature_layer", out var fl) && fl.ValueKind == JsonValueKind.Number ? fl.GetInt32() : -2;
        int index = featureLayer < 0 ? vision.Layers + 1 + featureLayer : featureLayer;
        if (index < 1 || index > vision.Layers) throw new FurnaceFormatException(configFile, $"vision_feature_layer {featureLayer} is outside 1..{vision.Layers}");
        string act = root.TryGetProperty("projector_hidden_act", out var pa) ? pa.GetString() ?? "gelu" : "gelu";
        if (act != "gelu") throw new FurnaceFormatException(configFile, $"projector_hidden_act '{act}' is not supported (gelu, llama.cpp's mlp projector)");
        TensorEntry l1 = vb.Find("multi_modal_projector.linear_1.weight") ?? throw new FurnaceFormatException(dir, "missing tensor 'multi_modal_projector.linear_1.weight'");
        TensorEntry l2 = vb.Find("multi_modal_projector.linear_2.weight") ?? throw new FurnaceFormatException(dir, "missing tensor 'multi_modal_projector.linear_2.weight'");
        var shape = new MmprojProjectorShape((int)l1.Shape[0], (int)l2.Shape[0]);
        var h = new MmprojHeader
        {
            Vision = vision with { Layers = index },
            ProjectorType = "mlp",
            ProjectionDim = shape.Out,
            FeatureLayers = [index],
            ImageMean = mean,
            ImageStd = std,
            Name = name,
        };
        var tower = vb.Prefix("vision_tower");
        Write(to, h, shape, null, n => n.StartsWith("multi_modal_projector.", StringComparison.Ordinal) ? Read(vb, n) : Read(tower, n), type);
    }

    private static float[] Read(WeightLoader vb, string name)
    {
        TensorEntry e = vb.Find(name) ?? throw new FurnaceFormatException(vb.SourcePath, $"missing tensor '{vb.Key(name)}'");
        return vb.Floats(name, e.Shape);
    }
}
