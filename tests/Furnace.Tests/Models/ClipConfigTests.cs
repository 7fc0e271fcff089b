// ClipConfig from Hugging Face config.json files: transformers' defaults, the legacy *_config_dict overrides,
// vision-only layouts, the eos_token_id pooling rule, round trips of the presets, and error messages.
using System.Text;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models.Clip;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models;

public sealed class ClipConfigTests
{
    private static ClipConfig Parse(string json) => ClipConfig.ParseHf(Encoding.UTF8.GetBytes(json), "config.json");

    [Fact]
    public void ClipModel_EmptyTowerConfigs_GetTransformersDefaults()
    {
        var c = Parse("""{"architectures": ["CLIPModel"], "text_config": {}, "vision_config": {}}""");
        Assert.Equal(ClipConfig.Preset("clip-vit-base-patch32"), c);
        Assert.Equal(ClipActivation.QuickGelu, c.Vision.Activation);
        Assert.Equal(1e-5f, c.Text!.LayerNormEps);
        Assert.Equal((49406, 49407, 77), (c.Text.BosTokenId, c.Text.EosTokenId, c.Text.MaxPositions));
        Assert.False(c.Text.PoolsAtArgmax);
        Assert.Equal(2.6592f, c.LogitScaleInit);
    }

    [Fact]
    public void OpenAiStyleConfig_DictOverridesAndLegacyEos()
    {
        // the shape of openai/clip-vit-large-patch14's config.json: full *_config dumps, non-defaults in *_config_dict
        var c = Parse("""
            {"architectures": ["CLIPModel"], "model_type": "clip", "projection_dim": 768, "logit_scale_init_value": 2.6592,
             "text_config": {"hidden_size": 512, "eos_token_id": 2, "bos_token_id": 0, "pad_token_id": 1, "max_position_embeddings": 77},
             "text_config_dict": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12, "num_hidden_layers": 12, "projection_dim": 768},
             "vision_config": {"hidden_size": 768, "patch_size": 32},
             "vision_config_dict": {"hidden_size": 1024, "intermediate_size": 4096, "num_attention_heads": 16, "num_hidden_layers": 24, "patch_size": 14, "projection_dim": 768}}
            """);
        var preset = ClipConfig.Preset("clip-vit-large-patch14");
        Assert.Equal(preset.Vision, c.Vision);
        Assert.Equal(preset.Text! with { EosTokenId = 2, BosTokenId = 0 }, c.Text);
        Assert.True(c.Text!.PoolsAtArgmax);
        Assert.Equal(768, c.ProjectionDim);
    }

    [Fact]
    public void VisionOnlyConfigs_ReadTopLevelFields()
    {
        var v = Parse("""
            {"architectures": ["CLIPVisionModel"], "model_type": "clip_vision_model", "hidden_size": 1024, "intermediate_size": 4096,
             "num_attention_heads": 16, "num_hidden_layers": 24, "image_size": 336, "patch_size": 14, "hidden_act": "gelu"}
            """);
        Assert.Equal(ClipArchitecture.VisionModel, v.Architecture);
        Assert.Null(v.Text);
        Assert.Null(v.ProjectionDim);
        Assert.Equal((24, 577, 588), (v.Vision.GridSize, v.Vision.Positions, v.Vision.PatchValues));
        Assert.Equal(ClipActivation.GeluErf, v.Vision.Activation);

        var p = Parse("""{"architectures": ["CLIPVisionModelWithProjection"], "model_type": "clip_vision_model", "projection_dim": 768}""");
        Assert.Equal(ClipArchitecture.VisionModelWithProjection, p.Architecture);
        Assert.Equal(768, p.ProjectionDim);
        Assert.Equal(new ClipVisionConfig(), p.Vision);

        // LLaVA loads CLIPVisionModel from a full CLIPModel directory: its vision_config applies
        var full = Parse("""{"architectures": ["CLIPVisionModel"], "vision_config": {"image_size": 336, "patch_size": 14}}""");
        Assert.Equal(336, full.Vision.ImageSize);
    }

    [Theory]
    [InlineData("clip-vit-base-patch32")]
    [InlineData("clip-vit-large-patch14-336")]
    [InlineData("test-tiny")]
    public void Presets_RoundTripThroughConfigJson(string name)
    {
        var c = ClipConfig.Preset(name);
        Assert.Equal(c, ClipConfig.ParseHf(c.ToHfConfigJson(), name));
        var vision = c with { Architecture = ClipArchitecture.VisionModelWithProjection, Text = null };
        Assert.Equal(vision, ClipConfig.ParseHf(vision.ToHfConfigJson(), name));
    }

    [Theory]
    [InlineData("""{"architectures": ["CLIPTextModel"]}""", "architecture 'CLIPTextModel' is not supported")]
    [InlineData("""{"architectures": ["CLIPModel"], "vision_config": {"hidden_act": "relu"}}""", "hidden_act 'relu'")]
    [InlineData("""{"architectures": ["CLIPModel"], "vision_config": {"image_size": 30, "patch_size": 8}}""", "image_size 30 must be a positive multiple of patch_size 8")]
    [InlineData("""{"model_type": "bert"}""", "model_type 'bert' is not CLIP")]
    [InlineData("""{"architectures": ["CLIPModel"], "text_config": {"hidden_size": "big"}}""", "text_config.hidden_size")]
    public void BadConfigs_FailNamingTheField(string json, string message)
    {
        var e = Assert.ThrowsAny<FurnaceException>(() => Parse(json));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("config.json", e.Message);
    }

    [Fact]
    public void WrongTensorShape_FailsWithKeyAndShapes()
    {
        using var dir = new TempDir();
        var tiny = ClipConfig.Preset("test-tiny");
        RandomClip.WriteHuggingFace(dir.Path, tiny, seed: 1);
        using var source = SafeTensorsCheckpoint.Open(dir.Path);
        var wrong = tiny.Vision with { PatchSize = 4 };
        var e = Assert.Throws<FurnaceFormatException>(() => ClipVisionWeights.Load(new WeightLoader(source), wrong, 32));
        Assert.Contains("'vision_model.embeddings.patch_embedding.weight' has shape [64, 3, 8, 8], expected [64, 3, 4, 4]", e.Message);
        // the I64 position_ids buffers written beside the weights are listed but never loaded
        Assert.DoesNotContain(source.Entries, t => t.Name.EndsWith("position_ids", StringComparison.Ordinal));
    }

    [Fact]
    public void VisionModelCheckpoint_HasNoProjection()
    {
        using var dir = new TempDir();
        var config = ClipConfig.Preset("test-tiny") with { Architecture = ClipArchitecture.VisionModel, Text = null, ProjectionDim = null };
        RandomClip.WriteHuggingFace(dir.Path, config, seed: 2);
        using var tower = ClipVisionTower.Load(dir.Path);
        using var ctx = new Furnace.Tensors.KernelContext(1);
        Assert.Null(tower.EmbeddingDim);
        float[] pixels = new float[3 * 32 * 32];
        Assert.Equal(16 * 64, tower.HiddenStates(pixels, 1, -2, VisionFeatureStrategy.Default, ctx).Length);
        Assert.Equal(64, tower.PooledOutput(pixels, 1, ctx).Length);
        Assert.Contains("no visual_projection", Assert.Throws<FurnaceException>(() => tower.EncodeImage(pixels, ctx)).Message);
        Assert.Contains("outside the 3 hidden states", Assert.Throws<FurnaceException>(() => tower.HiddenStates(pixels, 1, -4, VisionFeatureStrategy.Full, ctx)).Message);
        Assert.Contains("expected 1 x 3 x 32 x 32", Assert.Throws<FurnaceException>(() => tower.HiddenStates(pixels.AsSpan(1), 1, 0, VisionFeatureStrategy.Full, ctx)).Message);
        Assert.Throws<FurnaceException>(() => ClipModel.Load(dir.Path));
    }
}
