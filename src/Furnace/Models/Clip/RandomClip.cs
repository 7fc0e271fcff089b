// Seeded random-weight CLIP checkpoints in the real Hugging Face layout (config.json + model.safetensors with
// transformers' key names, position_ids buffers and the logit_scale scalar): for oracle tests on tiny shapes and
// benchmarks at real shapes. Every tensor is a pure function of (seed, name).
using Furnace.Formats.SafeTensors;
using Furnace.IO;
using Furnace.Tensors;

namespace Furnace.Models.Clip;

public static class RandomClip
{
    /// <summary>
    /// Values of the named tensor: layer-norm weights near 1, biases ~U(-0.1, 0.1), embeddings ~U(-0.5, 0.5),
    /// matrices ~U(-a, a) with a = sqrt(3/fan_in)·0.5; logit_scale = logit_scale_init_value.
    /// </summary>
    public static float[] Tensor(ClipConfig c, string name, int seed)
    {
        var t = ClipTensorNames.All(c).FirstOrDefault(x => x.Name == name) ?? throw new ArgumentException($"no tensor '{name}' in this config");
        if (name == "logit_scale") return [c.LogitScaleInit];
        long n = t.Shape.Aggregate(1L, (a, b) => a * b);
        bool norm = name.Contains("norm", StringComparison.Ordinal) && name.EndsWith(".weight", StringComparison.Ordinal);
        bool bias = name.EndsWith(".bias", StringComparison.Ordinal);
        bool embedding = name.Contains("embedding", StringComparison.Ordinal) && !name.Contains("patch_embedding", StringComparison.Ordinal);
        long fanIn = t.Shape.Length > 1 ? n / t.Shape[0] : 1;
        float a = norm ? 0.2f : bias ? 0.1f : embedding ? 0.5f : 0.5f * MathF.Sqrt(3f / fanIn);
        return SeededUniform.Values(n, seed, name, norm ? 1f : 0f, a);
    }

    /// <summary>Writes config.json and model.safetensors; matrices (rank >= 2) in type, the rest F32.</summary>
    public static void WriteHuggingFace(string dir, ClipConfig c, int seed, DType type = DType.F32)
    {
        Directory.CreateDirectory(dir);
        AtomicFile.Write(Path.Combine(dir, "config.json"), s => s.Write(c.ToHfConfigJson()));
        var w = new SafeTensorsWriter().AddMetadata("format", "pt");
        foreach (var t in ClipTensorNames.All(c)) w.Add(t.Name, t.Shape, Tensor(c, t.Name, seed), t.Shape.Length >= 2 ? type : DType.F32);
        foreach (var t in ClipTensorNames.PositionIds(c))
        {
            var bytes = new byte[t.Shape[1] * sizeof(long)];
            for (int i = 0; i < t.Shape[1]; i++) BitConverter.TryWriteBytes(bytes.AsSpan(i * sizeof(long)), (long)i);
            w.AddRaw(t.Name, "I64", t.Shape, bytes);
        }
        w.Write(Path.Combine(dir, SafeTensorsCheckpoint.SingleFileName));
    }

    /// <summary>
    /// Writes a LLaVA-layout checkpoint of the vision side (LlavaForConditionalGeneration's config.json with
    /// vision_config, vision_feature_layer -2, projector_hidden_act gelu; vision_tower.vision_model.* and
    /// multi_modal_projector.linear_1/2 with biases, text width textDim). No language_model.* tensors.
    /// </summary>
    public static void WriteLlavaVision(string dir, ClipVisionConfig vision, int textDim, int seed, DType type = DType.F32)
    {
        Directory.CreateDirectory(dir);
        var c = new ClipConfig { Architecture = ClipArchitecture.VisionModel, Vision = vision, ProjectionDim = null };
        string visionJson = System.Text.Encoding.UTF8.GetString(c.ToHfConfigJson());
        AtomicFile.Write(Path.Combine(dir, "config.json"), s => s.Write(System.Text.Encoding.UTF8.GetBytes(
            "{\n  \"architectures\": [\"LlavaForConditionalGeneration\"],\n  \"model_type\": \"llava\",\n" +
            "  \"vision_feature_layer\": -2,\n  \"vision_feature_select_strategy\": \"default\",\n  \"projector_hidden_act\": \"gelu\",\n" +
            $"  \"text_config\": {{ \"model_type\": \"llama\", \"hidden_size\": {textDim} }},\n  \"vision_config\": {visionJson}\n}}\n")));
        var w = new SafeTensorsWriter().AddMetadata("format", "pt");
        foreach (var t in ClipTensorNames.All(c)) w.Add("vision_tower." + t.Name, t.Shape, Tensor(c, t.Name, seed), t.Shape.Length >= 2 ? type : DType.F32);
        foreach (var (name, shape) in new (string, long[])[]
        {
            ("multi_modal_projector.linear_1.weight", [textDim, vision.HiddenSize]),
            ("multi_modal_projector.linear_1.bias", [textDim]),
            ("multi_modal_projector.linear_2.weight", [textDim, textDim]),
            ("multi_modal_projector.linear_2.bias", [textDim]),
        })
        {
            float[] v = SeededUniform.Values(shape.Aggregate(1L, (a, b) => a * b), seed, name, 0f, shape.Length == 2 ? 0.5f * MathF.Sqrt(3f / shape[1]) : 0.1f);
            w.Add(name, shape, v, shape.Length >= 2 ? type : DType.F32);
        }
        w.Write(Path.Combine(dir, SafeTensorsCheckpoint.SingleFileName));
    }
}
