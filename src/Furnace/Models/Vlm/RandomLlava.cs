// Seeded random-weight LLaVA checkpoints in transformers' LlavaForConditionalGeneration layout (config.json, one
// model.safetensors with vision_tower.vision_model.*, multi_modal_projector.linear_1/2.*, language_model.model.* /
// language_model.lm_head.*, and a CLIP preprocessor_config.json), and a standalone projector file for composition.
// The tower and decoder tensors are RandomClip's and RandomLlama's for the same seed; tokenizer files are the
// caller's (tests write a synthetic tokenizer.json).
using System.Text;
using Furnace.Formats.SafeTensors;
using Furnace.IO;
using Furnace.Models.Clip;
using Furnace.Models.Llama;
using Furnace.Tensors;

namespace Furnace.Models.Vlm;

public static class RandomLlava
{
    /// <summary>A tiny LLaVA: CLIP test-tiny vision (32 px, 16 patches, 64-d), mlp2x_gelu, Llama test-tiny (64-d, vocab 320).</summary>
    public static (ClipConfig Vision, LlavaConfig Config) TestTiny()
    {
        var clip = ClipConfig.Preset("test-tiny") with { Architecture = ClipArchitecture.VisionModel, Text = null, ProjectionDim = null };
        var c = new LlavaConfig { Vision = clip.Vision, Text = LlamaConfig.Preset("test-tiny"), ImageTokenIndex = 320 };
        return (clip, c);
    }

    public static void WriteHuggingFace(string dir, ClipConfig vision, LlavaConfig c, int seed)
    {
        Directory.CreateDirectory(dir);
        AtomicFile.Write(Path.Combine(dir, "config.json"), s => s.Write(c.ToHfConfigJson(vision)));
        WritePreprocessorConfig(dir, c.Vision!.ImageSize);
        var w = new SafeTensorsWriter().AddMetadata("format", "pt");
        foreach (var t in ClipTensorNames.All(vision)) w.Add("vision_tower." + t.Name, t.Shape, RandomClip.Tensor(vision, t.Name, seed));
        foreach (var t in LlamaTensorNames.All(c.Text))
            w.Add("language_model." + t.Hf, t.Shape, RandomLlama.Tensor(c.Text, t.Hf, seed));
        foreach (var (name, shape, values) in ProjectorTensors(c.Vision!.HiddenSize, c.Text.Dim, seed))
            w.Add("multi_modal_projector." + name, shape, values);
        w.Write(Path.Combine(dir, SafeTensorsCheckpoint.SingleFileName));
    }

    /// <summary>A standalone mlp2x_gelu projector file with keys multi_modal_projector.linear_1/2.{weight,bias}.</summary>
    public static void WriteProjector(string path, int inDim, int outDim, int seed)
    {
        var w = new SafeTensorsWriter();
        foreach (var (name, shape, values) in ProjectorTensors(inDim, outDim, seed)) w.Add("multi_modal_projector." + name, shape, values);
        w.Write(path);
    }

    private static IEnumerable<(string Name, long[] Shape, float[] Values)> ProjectorTensors(int inDim, int outDim, int seed)
    {
        yield return ("linear_1.weight", [outDim, inDim], Uniform(seed, "linear_1.weight", outDim * inDim, 0.5f * MathF.Sqrt(3f / inDim)));
        yield return ("linear_1.bias", [outDim], Uniform(seed, "linear_1.bias", outDim, 0.1f));
        yield return ("linear_2.weight", [outDim, outDim], Uniform(seed, "linear_2.weight", outDim * outDim, 0.5f * MathF.Sqrt(3f / outDim)));
        yield return ("linear_2.bias", [outDim], Uniform(seed, "linear_2.bias", outDim, 0.1f));
    }

    /// <summary>
    /// The composed random LLaVA the benchmarks run (`--model GGUF --vision CLIP --projector P`, seed 1): CLIP preset
    /// `vision` in the HF layout (DIR/VISION-hf), Llama preset `llm` as a GGUF of `type` (DIR/LLM-TYPENAME.gguf) and
    /// their projector. Files already in dir are reused, so a second run writes nothing; log hears what is written.
    /// </summary>
    public static (string ClipDir, string Gguf, string Projector) WriteComposedCached(string dir, string vision, string llm, DType type, string typeName, Action<string>? log = null)
    {
        Directory.CreateDirectory(dir);
        ClipConfig clip = ClipConfig.Preset(vision);
        LlamaConfig text = LlamaConfig.Preset(llm);
        string clipDir = Path.Combine(dir, $"{vision}-hf");
        string gguf = Path.Combine(dir, $"{llm}-{typeName}.gguf");
        string projector = Path.Combine(dir, $"projector-{clip.Vision.HiddenSize}-{text.Dim}.safetensors");
        if (!File.Exists(Path.Combine(clipDir, "model.safetensors")))
        {
            log?.Invoke($"writing {clipDir}");
            RandomClip.WriteHuggingFace(clipDir, clip, seed: 1);
            WritePreprocessorConfig(clipDir, clip.Vision.ImageSize);
        }
        if (!File.Exists(gguf))
        {
            log?.Invoke($"writing {gguf}");
            RandomLlama.WriteGguf(gguf, text, type, seed: 1);
        }
        if (!File.Exists(projector)) WriteProjector(projector, clip.Vision.HiddenSize, text.Dim, seed: 1);
        return (clipDir, gguf, projector);
    }

    /// <summary>OpenAI CLIP's image processor at the given size.</summary>
    public static void WritePreprocessorConfig(string dir, int size)
    {
        string json = $$"""
        {
          "image_processor_type": "CLIPImageProcessor",
          "do_resize": true, "size": {"shortest_edge": {{size}}}, "resample": 3,
          "do_center_crop": true, "crop_size": {"height": {{size}}, "width": {{size}}},
          "do_rescale": true, "rescale_factor": 0.00392156862745098,
          "do_normalize": true, "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_std": [0.26862954, 0.26130258, 0.27577711],
          "do_convert_rgb": true
        }
        """;
        AtomicFile.Write(Path.Combine(dir, "preprocessor_config.json"), s => s.Write(Encoding.UTF8.GetBytes(json)));
    }

    private static float[] Uniform(int seed, string name, int n, float a)
    {
        ulong state = 1469598103934665603UL ^ (ulong)(uint)seed;
        foreach (char ch in name) state = (state ^ ch) * 1099511628211UL;
        if (state == 0) state = 1;
        var v = new float[n];
        for (int i = 0; i < n; i++)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            v[i] = a * ((state >> 40) * (1f / (1 << 24)) * 2f - 1f);
        }
        return v;
    }
}
