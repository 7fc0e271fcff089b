// RandomDeepSeekVl2 writes a directory in the published DeepSeek-VL2 layout: its config.json and processor_config.json
// load back to the same shapes, and model.safetensors holds vision.* (timm SigLIP names), projector.layers.*,
// image_newline, view_seperator and language.* = exactly the tensors of the decoder's own Hugging Face directory.
using System.Text.Json;
using System.Text.Json.Nodes;
using Furnace.Formats.Images;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models.DeepSeek;
using Furnace.Models.DeepSeekVl2;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeekVl2;

public sealed class RandomDeepSeekVl2Tests
{
    [Fact]
    public void WriteHuggingFace_TestPreset_LoadsBackInThePublishedLayout()
    {
        using var dir = new TempDir();
        var (config, processor) = RandomDeepSeekVl2.TestPreset(GlobalViewPosition.Tail);
        string model = dir.File("vl2"), lang = dir.File("lang");
        RandomDeepSeekVl2.WriteHuggingFace(model, config, processor, seed: 4);
        RandomDeepSeek.WriteHuggingFace(lang, config.Language, seed: 4);

        Assert.True(DeepSeekVl2Config.IsDeepSeekVl2(Path.Combine(model, "config.json")));
        Assert.False(DeepSeekVl2Config.IsDeepSeekVl2(Path.Combine(lang, "config.json")));
        var back = DeepSeekVl2Config.Load(model);
        Assert.Equal(config.Vision, back.Vision);
        Assert.Equal(config.Projector, back.Projector);
        Assert.Equal(config.Language, back.Language);
        Assert.Equal(config.CandidateResolutions, back.CandidateResolutions);
        Assert.Equal(GlobalViewPosition.Tail, back.GlobalViewPos);
        var p = DeepSeekVl2ProcessorConfig.Load(model);
        Assert.Equal(processor.CandidateResolutions, p.CandidateResolutions);
        Assert.Equal((processor.PatchSize, processor.DownsampleRatio, processor.ImageToken, processor.PadToken), (p.PatchSize, p.DownsampleRatio, p.ImageToken, p.PadToken));

        using var vl2 = SafeTensorsCheckpoint.Open(Path.Combine(model, "model.safetensors"));
        using var decoder = SafeTensorsCheckpoint.Open(Path.Combine(lang, "model.safetensors"));
        var names = vl2.Entries.Select(e => e.Name).ToHashSet();
        Assert.Contains("vision.blocks.1.attn.qkv.weight", names);
        Assert.Contains("vision.attn_pool.latent", names);
        Assert.Contains("projector.layers.2.bias", names);
        Assert.Contains("image_newline", names);
        Assert.Contains("view_seperator", names);
        Assert.Equal([1L, 49, 32], vl2.Find("vision.pos_embed")!.Shape);
        Assert.Equal([32L, 3, 4, 4], vl2.Find("vision.patch_embed.proj.weight")!.Shape);
        Assert.Equal([119L, 32], vl2.Find("vision.blocks.0.mlp.fc1.weight")!.Shape); // int(32 · 3.7362)
        Assert.Equal([64L, 128], vl2.Find("projector.layers.0.weight")!.Shape);

        var language = names.Where(n => n.StartsWith("language.", StringComparison.Ordinal)).Select(n => n["language.".Length..]).ToHashSet();
        Assert.Equal(decoder.Entries.Select(e => e.Name).ToHashSet(), language);
        var a = new WeightLoader(vl2, "language.");
        var b = new WeightLoader(decoder);
        long[] shape = decoder.Find("model.layers.1.self_attn.kv_b_proj.weight")!.Shape;
        Assert.Equal(b.Floats("model.layers.1.self_attn.kv_b_proj.weight", shape), a.Floats("model.layers.1.self_attn.kv_b_proj.weight", shape));
    }

    [Fact]
    public void WriteHuggingFace_TinyStylePlainAttentionDecoder_LoadsBackWithUseMlaFalse()
    {
        // deepseek-vl2-tiny's decoder: use_mla false, q/k/v_proj under language.*
        using var dir = new TempDir();
        var (config, processor) = RandomDeepSeekVl2.TestPreset();
        Assert.Equal(64, config.Language.Dim);
        config = config with { Language = DeepSeekConfig.Preset("test-mha") }; // dim 64, 4 heads of 16, 2 kv heads
        string model = dir.File("vl2");
        RandomDeepSeekVl2.WriteHuggingFace(model, config, processor, seed: 4);
        var raw = JsonNode.Parse(File.ReadAllText(Path.Combine(model, "config.json")))!["language_config"]!;
        Assert.False(raw["use_mla"]!.GetValue<bool>());
        Assert.Equal(config.Language with { RopeNeox = true }, DeepSeekVl2Config.Load(model).Language);
        using var vl2 = SafeTensorsCheckpoint.Open(Path.Combine(model, "model.safetensors"));
        Assert.Equal([32L, 64], vl2.Find("language.model.layers.0.self_attn.k_proj.weight")!.Shape);
        Assert.Null(vl2.Find("language.model.layers.0.self_attn.kv_a_proj_with_mqa.weight"));
    }

    [Fact]
    public void Prepare_ProcessorFromDirectory_GivesSlotsForEveryView()
    {
        using var dir = new TempDir();
        var (config, processor) = RandomDeepSeekVl2.TestPreset();
        RandomDeepSeekVl2.WriteHuggingFace(dir.Path, config, processor, seed: 1);
        DeepSeekVl2Fixture.WriteTokenizer(dir.Path, ["Describe", "Ġthis", ":", "Ġ", "ĊĊ", "Ċ", "."]);
        var vl2 = DeepSeekVl2Processor.Load(dir.Path);

        var inputs = vl2.Ask("Describe this.", [RgbImage.Filled(60, 25, 200, 10, 10)]);

        var grid = inputs.Images[0].Grid;
        Assert.Equal((3, 1), (grid.TilesWide, grid.TilesHigh));
        Assert.Equal(4, inputs.Images[0].Views.Length);
        int slots = inputs.Prompt.ImageMask.Count(m => m);
        Assert.Equal(4 * 5 + 1 + 4 * (3 * 4 + 1), slots); // side 4: global 4·5, separator, local 4·13
        Assert.Equal(slots, inputs.Prompt.ImageTokenCounts.Single());
    }

    [Fact]
    public void ForwardReference_WrittenCheckpoint_RunsWholeModelOnOurPrompt()
    {
        // The whole-model reference (tower, projector, layout, decoder: deepseek_vl2_reference.py "forward") runs on
        // the writer's directory — every tensor it reads is there under DeepSeek's names — and builds the same prompt
        // as DeepSeekVl2Processor; its greedy tokens are what the joined model must reproduce.
        using var dir = new TempDir();
        var (config, processor) = RandomDeepSeekVl2.TestPreset();
        string model = dir.File("vl2");
        RandomDeepSeekVl2.WriteHuggingFace(model, config, processor, seed: 9);
        string photo = SharedPaths.CocoPhotos()[0];
        var conversation = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "<image>\n请用简洁优美的语言描述这张图片的内容" },
            new JsonObject { ["role"] = "assistant", ["content"] = "" });
        var req = new JsonObject
        {
            ["op"] = "pieces", ["conversation"] = conversation, ["image_sizes"] = new JsonArray(new JsonArray(1, 1)),
            ["processor"] = DeepSeekVl2Fixture.ProcessorJson(processor),
            ["added_tokens"] = new JsonArray(DeepSeekVl2Fixture.Specials.Select(s => (JsonNode)s).ToArray()),
        };
        File.WriteAllText(dir.File("pieces.json"), req.ToJsonString());
        PyTorchOracle.Run("deepseek_vl2_reference.py", dir.File("pieces.json"), dir.File("pieces-res.json"));
        using (var pieces = JsonDocument.Parse(File.ReadAllBytes(dir.File("pieces-res.json"))))
            DeepSeekVl2Fixture.WriteTokenizer(model, pieces.RootElement.GetProperty("pieces").EnumerateArray().Select(p => p.GetString()!));

        var fwd = new JsonObject
        {
            ["op"] = "forward", ["model"] = model, ["images"] = new JsonArray(photo), ["conversation"] = conversation.DeepClone(),
            ["max_tokens"] = 16, ["out"] = dir.File("rows.f32"),
        };
        File.WriteAllText(dir.File("fwd.json"), fwd.ToJsonString());
        PyTorchOracle.Run("deepseek_vl2_reference.py", dir.File("fwd.json"), dir.File("fwd-res.json"));
        using var res = JsonDocument.Parse(File.ReadAllBytes(dir.File("fwd-res.json")));

        var inputs = DeepSeekVl2Processor.Load(model).Ask("请用简洁优美的语言描述这张图片的内容", [ImageDecoder.Load(photo)]);
        Assert.Equal(res.RootElement.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()), inputs.Prompt.InputIds);
        float[] rows = PilOracle.ReadFloats(dir.File("rows.f32"));
        Assert.Equal(inputs.Prompt.ImageMask.Count(m => m) * config.Projector.NEmbed, rows.Length);
        int[] tokens = res.RootElement.GetProperty("tokens").EnumerateArray().Select(x => x.GetInt32()).ToArray();
        Assert.Equal(16, tokens.Length);
        Assert.True(tokens.Distinct().Count() > 1, "degenerate random model: the greedy continuation repeats one token");
    }
}
