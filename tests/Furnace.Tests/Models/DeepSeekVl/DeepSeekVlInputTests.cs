// DeepSeek-VL loading and prompting on bad input: one-line errors naming the key or file (unknown tower or aligner
// cls, the 7B hybrid, a missing processor config, more images than placeholders); the prompt format's details.
using System.Text.Json.Nodes;
using Furnace.Models.DeepSeekVl;
using Furnace.Models.Vlm;
using Furnace.Formats.ChatTemplates;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeekVl;

public sealed class DeepSeekVlInputTests
{
    private static void EditConfig(string model, Action<JsonObject> edit)
    {
        string file = Path.Combine(model, "config.json");
        var node = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        edit(node);
        File.WriteAllText(file, node.ToJsonString());
    }

    [Theory]
    [InlineData("vision_config", "EVA02VisionTower", "vision_config.cls 'EVA02VisionTower'")]
    [InlineData("vision_config", "HybridVisionTower", "vision_config.params.high_res_cfg")]
    [InlineData("aligner_config", "QFormer", "aligner_config.cls 'QFormer'")]
    public void Load_UnknownCls_NamesTheKey(string section, string cls, string expected)
    {
        using var dir = new TempDir();
        string model = DeepSeekVlOracleTests.WriteTiny(dir);
        EditConfig(model, n => n[section]!["cls"] = cls);
        var e = Assert.ThrowsAny<FurnaceException>(() => LlavaModel.Load(model));
        Assert.Contains(expected, e.Message);
        Assert.Contains("config.json", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Load_TransformersPortLayout_SaysNotSupportedYet()
    {
        using var dir = new TempDir();
        string model = DeepSeekVlOracleTests.WriteTiny(dir);
        EditConfig(model, n => n["model_type"] = "deepseek_vl");
        var e = Assert.ThrowsAny<FurnaceException>(() => LlavaModel.Load(model));
        Assert.Contains("model_type 'deepseek_vl'", e.Message);
        Assert.Contains("not supported yet", e.Message);
    }

    [Fact]
    public void Load_HybridAlignerWithClipTower_NamesTheKey()
    {
        using var dir = new TempDir();
        string model = DeepSeekVlOracleTests.WriteTiny(dir);
        EditConfig(model, n => n["aligner_config"]!["params"]!["projector_type"] = "low_high_hybrid_split_mlp_gelu");
        var e = Assert.ThrowsAny<FurnaceException>(() => LlavaModel.Load(model));
        Assert.Contains("aligner_config.params.projector_type 'low_high_hybrid_split_mlp_gelu'", e.Message);
    }

    [Fact]
    public void Load_UnknownModelNameWithoutSizes_NamesTheKey()
    {
        using var dir = new TempDir();
        string model = DeepSeekVlOracleTests.WriteTiny(dir);
        EditConfig(model, n =>
        {
            var p = n["vision_config"]!["params"]!.AsObject();
            p.Remove("width");
            p.Remove("layers");
        });
        var e = Assert.ThrowsAny<FurnaceException>(() => LlavaModel.Load(model));
        Assert.Contains("vision_config.params.model_name 'siglip_test_tiny'", e.Message);
    }

    [Fact]
    public void Load_TowerSizeDisagreesWithTensors_NamesTheTensor()
    {
        using var dir = new TempDir();
        string model = DeepSeekVlOracleTests.WriteTiny(dir);
        EditConfig(model, n => n["vision_config"]!["params"]!["mlp_ratio"] = 4.0);
        var e = Assert.ThrowsAny<FurnaceException>(() => LlavaModel.Load(model));
        Assert.Contains("vision_model.vision_tower.blocks.0.mlp.fc1.weight", e.Message);
    }

    [Theory]
    [InlineData("processor_config.json")]
    [InlineData("preprocessor_config.json")]
    public void Load_MissingProcessorConfig_NamesTheFile(string file)
    {
        using var dir = new TempDir();
        string model = DeepSeekVlOracleTests.WriteTiny(dir);
        File.Delete(Path.Combine(model, file));
        var e = Assert.ThrowsAny<FurnaceException>(() => LlavaModel.Load(model));
        Assert.Contains(file, e.Message);
    }

    [Fact]
    public void Load_NumImageTokensDisagreesWithTower_NamesTheKey()
    {
        using var dir = new TempDir();
        string model = DeepSeekVlOracleTests.WriteTiny(dir);
        string file = Path.Combine(model, "processor_config.json");
        File.WriteAllText(file, File.ReadAllText(file).Replace("\"num_image_tokens\": 16", "\"num_image_tokens\": 576"));
        var e = Assert.ThrowsAny<FurnaceException>(() => LlavaModel.Load(model));
        Assert.Contains("num_image_tokens 576", e.Message);
    }

    [Fact]
    public void BuildPrompt_MoreImagesThanPlaceholders_Throws()
    {
        using var dir = new TempDir();
        using var m = LlavaModel.Load(DeepSeekVlOracleTests.WriteTiny(dir));
        using var ctx = new KernelContext(1);
        var images = new[] { Furnace.Tests.Models.LlavaOracleTests.RandomImage(40, 30, 1), Furnace.Tests.Models.LlavaOracleTests.RandomImage(30, 40, 2) };
        var e = Assert.Throws<FurnaceException>(() => m.BuildPrompt(m.RenderChat("<image>\ndescribe"), images, ctx));
        Assert.Contains("1 <image_placeholder> placeholder but 2 images", e.Message);
    }

    [Fact]
    public void LlavaTrainableLoad_DeepSeekVl_SaysNotSupportedYet()
    {
        using var dir = new TempDir();
        string model = DeepSeekVlOracleTests.WriteTiny(dir);
        var e = Assert.Throws<FurnaceException>(() => LlavaTrainable.Load(model, new LlavaTrainingOptions()));
        Assert.Contains("training a DeepSeek-VL directory is not supported yet", e.Message);
    }

    [Fact]
    public void Render_MultiTurn_UsesBothSeparators()
    {
        var f = new DeepSeekVlPromptFormat("<image_placeholder>");
        string s = f.Render([new ChatMessage("system", ""), new ChatMessage("user", " <image>\nA? "), new ChatMessage("assistant", "B."), new ChatMessage("user", "C?")]);
        Assert.Equal("User: <image_placeholder>\nA?\n\nAssistant: B.<｜end▁of▁sentence｜>User: C?\n\nAssistant:", s);
    }
}
