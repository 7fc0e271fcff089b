using System.Text.Json;
using System.Text.Json.Nodes;
using Furnace.Formats.Images;
using Furnace.Models.DeepSeek;
using Furnace.Models.DeepSeekVl2;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeekVl2;

public class DeepSeekVl2ModelTests
{
    [Theory]
    [InlineData("test-v2-lite")] // MLA + MoE decoder (-small / base style)
    [InlineData("test-mha")] // use_mla false: plain multi-head attention (deepseek-vl2-tiny style)
    public void Load_RandomCheckpoint_MatchesWholeModelReference(string decoder)
    {
        // deepseek_vl2_reference.py "forward" runs the written directory end to end in float64 on a COCO photo:
        // our joined model must give the same prompt ids, image rows within 1e-4 of the largest and the same 16 greedy tokens
        using var dir = new TempDir();
        var (preset, processor) = RandomDeepSeekVl2.TestPreset();
        var config = preset with { Language = DeepSeekConfig.Preset(decoder) };
        string model = dir.File("vl2");
        RandomDeepSeekVl2.WriteHuggingFace(model, config, processor, seed: 9);
        string photo = SharedPaths.CocoPhotos()[0];
        const string question = "Describe this image.";
        var conversation = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "<image>\n" + question },
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
        float[] refRows = PilOracle.ReadFloats(dir.File("rows.f32"));
        int[] refTokens = res.RootElement.GetProperty("tokens").EnumerateArray().Select(x => x.GetInt32()).ToArray();

        using var vl2 = DeepSeekVl2Model.Load(model);
        using var ctx = new KernelContext(2);
        var embedded = vl2.Embed(vl2.Processor.Ask(question, [ImageDecoder.Load(photo)]), ctx);
        Assert.Equal(res.RootElement.GetProperty("input_ids").EnumerateArray().Select(x => x.GetInt32()), embedded.Prompt.InputIds);
        Assert.Equal(refRows.Length, embedded.ImageRows.Length);
        double scale = refRows.Max(MathF.Abs), worst = 0;
        for (int i = 0; i < refRows.Length; i++) worst = Math.Max(worst, Math.Abs(refRows[i] - embedded.ImageRows[i]));
        Assert.True(worst <= 1e-4 * scale, $"image rows: max |diff| {worst} > 1e-4 x {scale}");
        Assert.Equal(refTokens, vl2.Greedy(embedded, 16, ctx));
    }

    [Fact]
    public void Load_TokenizerLargerThanTheLanguageModel_OneLineErrorNamingBothSizes()
    {
        using var dir = new TempDir();
        var (config, processor) = RandomDeepSeekVl2.TestPreset();
        string model = dir.File("vl2");
        RandomDeepSeekVl2.WriteHuggingFace(model, config, processor, seed: 9);
        int vocab = DeepSeekVl2Fixture.WriteTokenizer(model, Enumerable.Range(0, config.Language.VocabSize + 8).Select(i => "w" + i));
        var e = Assert.Throws<FurnaceException>(() => DeepSeekVl2Model.Load(model));
        Assert.Contains($"the tokenizer has {vocab} tokens but the language model only {config.Language.VocabSize}", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
