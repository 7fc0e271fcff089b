// Seeded random-weight DeepSeek-VL2 directories in the published layout (deepseek-ai/deepseek-vl2-tiny/-small: one
// DeepseekVLV2ForCausalLM state dict): config.json (model_type deepseek_vl_v2 with vision_config, projector_config,
// language_config, tile_tag, global_view_pos, candidate_resolutions), processor_config.json, and model.safetensors
// (f32) holding
//   vision.*      timm's SigLIP VisionTransformer (siglip_vit.py): patch_embed.proj, pos_embed, blocks.N.{norm1,
//                 attn.qkv, attn.proj, norm2, mlp.fc1, mlp.fc2}, norm, and the unused attn_pool head (global_pool "map")
//   projector.layers.{0, 2, …}, image_newline, view_seperator (sic)
//   language.*    the DeepSeek-V2/V3 decoder under its Hugging Face names (RandomDeepSeek.HfTensors)
// Every tensor is a pure function of (seed, name). No tokenizer is written (the caller adds tokenizer.json).
using System.Text.Json;
using Furnace.Formats.SafeTensors;
using Furnace.IO;
using Furnace.Models.DeepSeek;

namespace Furnace.Models.DeepSeekVl2;

public static class RandomDeepSeekVl2
{
    /// <summary>
    /// DeepSeek-VL2 in miniature for tests: 28-pixel views of 4-pixel patches (a 7 × 7 grid, odd, so the projector
    /// pads it to 8 × 8 → 4 × 4 tokens), a 2-layer 32-wide tower with SO400M's mlp_ratio, a depth-2 projector into the
    /// test-v2-lite decoder (dim 64), and candidates up to 3 × 1 / 2 × 2 tiles.
    /// </summary>
    public static (DeepSeekVl2Config Model, DeepSeekVl2ProcessorConfig Processor) TestPreset(GlobalViewPosition position = GlobalViewPosition.Head)
    {
        (int, int)[] candidates = [(28, 28), (28, 56), (56, 28), (28, 84), (84, 28), (56, 56)];
        var model = new DeepSeekVl2Config(
            new DeepSeekVl2VisionConfig("siglip_so400m_patch14_384", 28, 4, 32, 2, 4, 3.7362, "map", false),
            new DeepSeekVl2ProjectorConfig(32, 64, 2, 1, 2),
            DeepSeekConfig.Preset("test-v2-lite"),
            candidates,
            position);
        var processor = new DeepSeekVl2ProcessorConfig(candidates, 4, 2, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5], true, "<image>", "<｜▁pad▁｜>", "deepseek");
        return (model, processor);
    }

    /// <summary>The vision tower's tensors (under "vision.") with their shapes, in timm's state-dict order.</summary>
    public static IEnumerable<(string Name, long[] Shape)> VisionShapes(DeepSeekVl2VisionConfig v)
    {
        long w = v.Width, m = v.MlpDim, n = (long)v.GridSide * v.GridSide;
        yield return ("pos_embed", [1, n, w]);
        yield return ("patch_embed.proj.weight", [w, 3, v.PatchSize, v.PatchSize]);
        yield return ("patch_embed.proj.bias", [w]);
        for (int i = 0; i < v.Layers; i++)
        {
            string b = $"blocks.{i}.";
            yield return (b + "norm1.weight", [w]);
            yield return (b + "norm1.bias", [w]);
            yield return (b + "attn.qkv.weight", [3 * w, w]);
            yield return (b + "attn.qkv.bias", [3 * w]);
            yield return (b + "attn.proj.weight", [w, w]);
            yield return (b + "attn.proj.bias", [w]);
            yield return (b + "norm2.weight", [w]);
            yield return (b + "norm2.bias", [w]);
            yield return (b + "mlp.fc1.weight", [m, w]);
            yield return (b + "mlp.fc1.bias", [m]);
            yield return (b + "mlp.fc2.weight", [w, m]);
            yield return (b + "mlp.fc2.bias", [w]);
        }
        yield return ("norm.weight", [w]);
        yield return ("norm.bias", [w]);
        if (v.GlobalPool != "map") yield break;
        // timm AttentionPoolLatent(width, heads, mlp_ratio): one latent query, q / kv / proj, norm, mlp
        yield return ("attn_pool.latent", [1, 1, w]);
        yield return ("attn_pool.q.weight", [w, w]);
        yield return ("attn_pool.q.bias", [w]);
        yield return ("attn_pool.kv.weight", [2 * w, w]);
        yield return ("attn_pool.kv.bias", [2 * w]);
        yield return ("attn_pool.proj.weight", [w, w]);
        yield return ("attn_pool.proj.bias", [w]);
        yield return ("attn_pool.norm.weight", [w]);
        yield return ("attn_pool.norm.bias", [w]);
        yield return ("attn_pool.mlp.fc1.weight", [m, w]);
        yield return ("attn_pool.mlp.fc1.bias", [m]);
        yield return ("attn_pool.mlp.fc2.weight", [w, m]);
        yield return ("attn_pool.mlp.fc2.bias", [w]);
    }

    /// <summary>
    /// Values of a vision / projector / layout tensor: norm weights 1 ± 0.2, biases ± 0.1, pos_embed ± 0.5, the
    /// latent, image_newline and view_seperator ± 1, matrices (and the patch convolution) ± 0.5·sqrt(3/fan_in).
    /// </summary>
    public static float[] Values(string name, long[] shape, int seed)
    {
        long count = shape.Aggregate(1L, (a, b) => a * b);
        bool norm = name.EndsWith("norm.weight", StringComparison.Ordinal) || name.EndsWith("norm1.weight", StringComparison.Ordinal)
            || name.EndsWith("norm2.weight", StringComparison.Ordinal);
        float a = norm ? 0.2f
            : name.EndsWith(".bias", StringComparison.Ordinal) ? 0.1f
            : name.EndsWith("pos_embed", StringComparison.Ordinal) ? 0.5f
            : shape.Length == 1 || name.EndsWith("latent", StringComparison.Ordinal) ? 1f
            : 0.5f * MathF.Sqrt(3f / (count / shape[0]));
        return SeededUniform.Values(count, seed, name, norm ? 1f : 0f, a);
    }

    /// <summary>Writes config.json, processor_config.json and model.safetensors of the model into dir.</summary>
    public static void WriteHuggingFace(string dir, DeepSeekVl2Config c, DeepSeekVl2ProcessorConfig processor, int seed)
    {
        processor.CheckAgainst(c, Path.Combine(dir, DeepSeekVl2ProcessorConfig.FileName));
        Directory.CreateDirectory(dir);
        AtomicFile.Write(Path.Combine(dir, "config.json"), s => WriteConfig(s, c));
        AtomicFile.Write(Path.Combine(dir, DeepSeekVl2ProcessorConfig.FileName), s => WriteProcessorConfig(s, processor));
        var st = new SafeTensorsWriter();
        foreach (var (n, shape) in VisionShapes(c.Vision)) Add("vision." + n, shape);
        foreach (var (n, shape) in DeepSeekVl2Projector.TensorShapes(c.Projector)) Add("projector." + n, shape);
        Add("image_newline", [c.Projector.NEmbed]);
        Add("view_seperator", [c.Projector.NEmbed]);
        foreach (var (n, shape, values) in RandomDeepSeek.HfTensors(c.Language, seed)) st.Add("language." + n, shape, values);
        st.Write(Path.Combine(dir, "model.safetensors"));

        void Add(string name, long[] shape) => st.Add(name, shape, Values(name, shape, seed));
    }

    private static void WriteConfig(Stream s, DeepSeekVl2Config c)
    {
        using var j = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = true });
        j.WriteStartObject();
        j.WriteStartArray("architectures");
        j.WriteStringValue("DeepseekVLV2ForCausalLM");
        j.WriteEndArray();
        j.WriteString("model_type", "deepseek_vl_v2");
        j.WriteString("tile_tag", "2D");
        j.WriteString("global_view_pos", c.GlobalViewPos == GlobalViewPosition.Head ? "head" : "tail");
        Resolutions(j, c.CandidateResolutions);
        var v = c.Vision;
        j.WriteStartObject("vision_config");
        j.WriteString("model_type", "vision");
        j.WriteString("model_name", v.ModelName);
        j.WriteNumber("image_size", v.ImageSize);
        j.WriteNumber("patch_size", v.PatchSize);
        j.WriteNumber("width", v.Width);
        j.WriteNumber("layers", v.Layers);
        j.WriteNumber("heads", v.Heads);
        j.WriteNumber("mlp_ratio", v.MlpRatio);
        j.WriteString("global_pool", v.GlobalPool);
        j.WriteBoolean("ignore_head", true);
        j.WriteBoolean("class_token", false);
        j.WriteEndObject();
        var p = c.Projector;
        j.WriteStartObject("projector_config");
        j.WriteString("model_type", "mlp_projector");
        j.WriteString("projector_type", "downsample_mlp_gelu");
        j.WriteNumber("input_dim", p.InputDim);
        j.WriteNumber("n_embed", p.NEmbed);
        j.WriteNumber("depth", p.Depth);
        j.WriteNumber("mlp_ratio", p.MlpRatio);
        j.WriteNumber("downsample_ratio", p.DownsampleRatio);
        j.WriteEndObject();
        j.WriteStartObject("language_config");
        RandomDeepSeek.WriteHfConfigFields(j, c.Language, plainAsV2: true); // plain attention: use_mla false, as deepseek-vl2-tiny
        if (c.Language.Mla) j.WriteBoolean("use_mla", true);
        j.WriteEndObject();
        j.WriteEndObject();
    }

    private static void WriteProcessorConfig(Stream s, DeepSeekVl2ProcessorConfig p)
    {
        using var j = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        j.WriteStartObject();
        j.WriteString("processor_class", "DeepseekVLV2Processor");
        Resolutions(j, p.CandidateResolutions);
        j.WriteNumber("patch_size", p.PatchSize);
        j.WriteNumber("downsample_ratio", p.DownsampleRatio);
        j.WriteStartArray("image_mean");
        foreach (double x in p.ImageMean) j.WriteNumberValue(x);
        j.WriteEndArray();
        j.WriteStartArray("image_std");
        foreach (double x in p.ImageStd) j.WriteNumberValue(x);
        j.WriteEndArray();
        j.WriteBoolean("normalize", p.Normalize);
        j.WriteString("image_token", p.ImageToken);
        j.WriteString("pad_token", p.PadToken);
        j.WriteBoolean("add_special_token", false);
        j.WriteString("sft_format", p.SftFormat);
        j.WriteBoolean("mask_prompt", false);
        j.WriteNumber("ignore_id", -100);
        j.WriteEndObject();
    }

    private static void Resolutions(Utf8JsonWriter j, (int Width, int Height)[] r)
    {
        j.WriteStartArray("candidate_resolutions");
        foreach (var (w, h) in r)
        {
            j.WriteStartArray();
            j.WriteNumberValue(w);
            j.WriteNumberValue(h);
            j.WriteEndArray();
        }
        j.WriteEndArray();
    }
}
