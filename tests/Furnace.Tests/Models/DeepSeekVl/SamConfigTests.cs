// SamVitConfig / HybridAlignerConfig from DeepSeek-VL params (the 7B chat model's high_res_cfg and aligner params),
// and the one-line errors of a config that does not fit the checkpoint: each names the tensor or key.
using System.Text.Json;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models.DeepSeekVl;
using Furnace.Models.Sam;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeekVl;

public sealed class SamConfigTests
{
    // vision_config.params.high_res_cfg of deepseek-ai/deepseek-vl-7b-chat
    private const string HighRes7B = """
        {"ckpt_path": "", "image_size": 1024, "model_name": "sam_b_downsample", "output_dim": 1024,
         "pixel_mean": [0.48145466, 0.4578275, 0.40821073], "pixel_std": [0.26862954, 0.26130258, 0.27577711],
         "select_feature": "same", "select_layer": -1}
        """;

    private static SamVitConfig Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        return SamVitConfig.FromParams(doc.RootElement, "config.json");
    }

    [Fact]
    public void FromParams_DeepSeekVl7B_TakesSamBDownsampleTable()
    {
        SamVitConfig c = Parse(HighRes7B);
        Assert.Equal((768, 12, 12, 64, 14, 256), (c.Width, c.Layers, c.Heads, c.HeadDim, c.WindowSize, c.OutChans));
        Assert.Equal([2, 5, 8, 11], c.GlobalAttnIndexes);
        Assert.Equal([512, 1024], c.DownsampleChannels);
        Assert.Equal((64, 3072, 2), (c.Grid, c.MlpDim, c.FirstGlobal));
        Assert.Equal((576, 1024), (c.OutputTokens, c.OutputChannels)); // 96 → 48 → 24, as SigLIP-L/16-384's 576
        Assert.Equal(0.48145466f, c.PixelMean![0]);
        Assert.Equal(1e-6f, c.LayerNormEps);
    }

    [Fact]
    public void FromParams_ExplicitKeys_OverrideTheTable()
    {
        SamVitConfig c = Parse("""{"model_name": "sam_vit_b", "image_size": 96, "width": 32, "heads": 4, "layers": 3, "global_attn_indexes": [1], "window_size": 4, "out_chans": 16}""");
        Assert.Equal((96, 32, 4, 3, 4, 16, 6), (c.ImageSize, c.Width, c.Heads, c.Layers, c.WindowSize, c.OutChans, c.Grid));
        Assert.Empty(c.DownsampleChannels);
        Assert.Equal((96 * 96, 16), (c.OutputTokens, c.OutputChannels)); // no downsamples: the resized neck
    }

    [Theory]
    [InlineData("""{"model_name": "sam_vit_x"}""", "high_res_cfg.model_name")]
    [InlineData("""{"image_size": 1024}""", "high_res_cfg.model_name is missing")]
    [InlineData("""{"model_name": "sam_b_downsample", "global_attn_indexes": [2, 12]}""", "global_attn_indexes")]
    [InlineData("""{"model_name": "sam_b_downsample", "image_size": 1000}""", "image_size 1000")]
    [InlineData("""{"model_name": "sam_b_downsample", "window_size": "14"}""", "high_res_cfg.window_size must be an integer")]
    [InlineData("""{"model_name": "sam_b_downsample", "pixel_mean": [0.5, 0.5, 0.5]}""", "pixel_std")]
    public void FromParams_BadValue_OneLineErrorNamesKey(string json, string expected)
    {
        var e = Assert.ThrowsAny<FurnaceException>(() => Parse(json));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("config.json", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("""{"projector_type": "mlp_gelu", "input_dim": 1024, "n_embed": 4096, "depth": 2}""", "projector_type is 'mlp_gelu'")]
    [InlineData("""{"projector_type": "low_high_hybrid_split_mlp_gelu", "n_embed": 4096}""", "input_dim is missing")]
    [InlineData("""{"projector_type": "low_high_hybrid_split_mlp_gelu", "input_dim": 1024, "n_embed": 4095}""", "n_embed 4095")]
    public void AlignerFromParams_BadValue_OneLineErrorNamesKey(string json, string expected)
    {
        using var doc = JsonDocument.Parse(json);
        var e = Assert.ThrowsAny<FurnaceException>(() => HybridAlignerConfig.FromParams(doc.RootElement, "config.json"));
        Assert.Contains("aligner_config.params." + expected, e.Message);
    }

    [Fact]
    public void AlignerFromParams_DeepSeekVl7B_DefaultsDepthToOne()
    {
        using var doc = JsonDocument.Parse("""{"projector_type": "low_high_hybrid_split_mlp_gelu", "input_dim": 1024, "n_embed": 4096}""");
        Assert.Equal(new HybridAlignerConfig { InputDim = 1024, NEmbed = 4096, Depth = 1 }, HybridAlignerConfig.FromParams(doc.RootElement, "config.json"));
    }

    private static readonly SamVitConfig Tiny = new SamVitConfig
    {
        ImageSize = 64, Width = 16, Layers = 2, Heads = 2, WindowSize = 2, GlobalAttnIndexes = [1], OutChans = 8, DownsampleChannels = [8, 16],
    }.Validated("tiny");

    private static string WriteTiny(TempDir dir)
    {
        var w = new SafeTensorsWriter();
        foreach (var (n, shape, values) in RandomSam.Tower(Tiny, seed: 1)) w.Add(SamCheckpointNames.Tower(SamCheckpointNaming.DeepSeekVl, n), shape, values);
        string path = Path.Combine(dir.Path, SafeTensorsCheckpoint.SingleFileName);
        w.Write(path);
        return dir.Path;
    }

    [Theory]
    [InlineData(32, 16, 2, "patch_embed.proj.weight' has shape [16, 3, 16, 16], expected [32, 3, 16, 16]")]
    [InlineData(16, 16, 1, "blocks.1.norm1.weight' exists, but the config has 1 layers")]
    [InlineData(16, 12, 2, "pos_embed' has shape [1, 4, 4, 16], expected [1, 3, 3, 16]")] // image 48 → grid 3; sam.py adds pos_embed uninterpolated
    public void Load_ConfigNotMatchingCheckpoint_OneLineErrorNamesTensor(int width, int patchesTimes4, int layers, string expected)
    {
        using var dir = new TempDir();
        string path = WriteTiny(dir);
        var config = Tiny with { Width = width, ImageSize = patchesTimes4 * 4, Layers = layers, GlobalAttnIndexes = [layers - 1] };
        var e = Assert.ThrowsAny<FurnaceException>(() => SamVisionTower.Load(path, config));
        Assert.Contains($"'{SamCheckpointNames.DeepSeekTower}{expected}", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Load_RelPosOfWrongHeadDim_ErrorNamesTensor()
    {
        using var dir = new TempDir();
        var w = new SafeTensorsWriter();
        foreach (var (n, shape, values) in RandomSam.Tower(Tiny, seed: 1))
        {
            bool bad = n == "blocks.0.attn.rel_pos_w";
            w.Add(SamCheckpointNames.Tower(SamCheckpointNaming.DeepSeekVl, n), bad ? [3, 4] : shape, bad ? new float[12] : values);
        }
        w.Write(Path.Combine(dir.Path, SafeTensorsCheckpoint.SingleFileName));
        var e = Assert.ThrowsAny<FurnaceException>(() => SamVisionTower.Load(dir.Path, Tiny));
        Assert.Contains("blocks.0.attn.rel_pos_w' has shape [3, 4], expected [L, 8]", e.Message);
    }

    [Fact]
    public void AlignerForward_TokenCountsDiffer_Throws()
    {
        using var dir = new TempDir();
        var c = new HybridAlignerConfig { InputDim = 4, NEmbed = 6, Depth = 2 };
        var w = new SafeTensorsWriter();
        foreach (var (n, shape, values) in RandomHybridAligner.Tensors(c, seed: 2)) w.Add("aligner." + n, shape, values);
        w.Write(Path.Combine(dir.Path, SafeTensorsCheckpoint.SingleFileName));
        using var source = SafeTensorsCheckpoint.Open(dir.Path);
        var aligner = HybridAligner.Load(new WeightLoader(source), c);
        using var ctx = new Furnace.Tensors.KernelContext(1);
        Assert.Equal(2 * 6, aligner.Forward(new float[8], new float[8], 2, ctx).Length);
        Assert.Throws<FurnaceException>(() => aligner.Forward(new float[8], new float[12], 2, ctx));
    }

    [Theory]
    [InlineData("pos_embed", "model.high_res_vision_model.vision_encoder.pos_embed")]
    [InlineData("patch_embed.proj.bias", "model.high_res_vision_model.vision_encoder.patch_embed.projection.bias")]
    [InlineData("blocks.11.norm2.weight", "model.high_res_vision_model.vision_encoder.layers.11.layer_norm2.weight")]
    [InlineData("blocks.3.attn.rel_pos_h", "model.high_res_vision_model.vision_encoder.layers.3.attn.rel_pos_h")]
    [InlineData("blocks.0.mlp.lin1.weight", "model.high_res_vision_model.vision_encoder.layers.0.mlp.lin1.weight")]
    [InlineData("neck.2.weight", "model.high_res_vision_model.vision_encoder.neck.conv2.weight")]
    [InlineData("neck_hd.1.bias", "model.high_res_vision_neck.layer_norm1.bias")]
    [InlineData("downsamples.1.weight", "model.high_res_vision_proj.conv2.weight")]
    [InlineData("hd_alpha_downsamples", "model.high_res_vision_alpha")]
    public void TowerNames_Transformers_FollowTheConversionScript(string sam, string hf)
    {
        Assert.Equal(hf, SamCheckpointNames.Tower(SamCheckpointNaming.Transformers, sam));
        Assert.Equal("vision_model.vision_tower_high.vision_tower." + sam, SamCheckpointNames.Tower(SamCheckpointNaming.DeepSeekVl, sam));
    }

    [Fact]
    public void AlignerNames_Transformers_FollowTheConversionScript()
    {
        Assert.Equal("model.aligner.high_res_vision_proj.weight", SamCheckpointNames.Aligner(SamCheckpointNaming.Transformers, "high_up_proj.weight"));
        Assert.Equal("model.aligner.vision_proj.bias", SamCheckpointNames.Aligner(SamCheckpointNaming.Transformers, "low_up_proj.bias"));
        Assert.Equal("model.aligner.proj.weight", SamCheckpointNames.Aligner(SamCheckpointNaming.Transformers, "layers.1.weight"));
        Assert.Throws<FurnaceException>(() => SamCheckpointNames.Aligner(SamCheckpointNaming.Transformers, "layers.3.weight"));
    }
}
