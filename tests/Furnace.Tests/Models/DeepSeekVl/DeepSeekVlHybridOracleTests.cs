// The DeepSeek-VL 7B hybrid (HybridVisionTower: SAM + SigLIP, low_high_hybrid_split_mlp_gelu) end to end through the
// DeepSeek-VL loader against Oracles/deepseek_vl_reference.py, which runs sam_reference.py's SAM tower and hybrid
// aligner with its SigLIP tower on the antialiased low view, on a tiny random hybrid checkpoint
// (RandomDeepSeekVl.TestTinyHybrid) and a real COCO photo: prompt and ids identical (576 image slots),
// projected features within 1e-4 relative, 16 greedy tokens identical.
using System.Text.Json;
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Models.DeepSeekVl;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeekVl;

public sealed class DeepSeekVlHybridOracleTests
{
    public static string WriteTinyHybrid(TempDir dir, int seed = 7)
    {
        string model = Path.Combine(dir.Path, "deepseek-vl-hybrid");
        RandomDeepSeekVl.Write(model, RandomDeepSeekVl.TestTinyHybrid(), seed);
        return model;
    }

    [Fact]
    public void Load_HybridLayout_BuildsHybridEncoderWithLastLinearAsProjector()
    {
        using var dir = new TempDir();
        using var m = LlavaModel.Load(WriteTinyHybrid(dir));
        var encoder = Assert.IsType<HybridVisionEncoder>(m.Vision);
        Assert.Equal(576, m.TokensPerImage);
        Assert.Equal(576, encoder.High.Config.OutputTokens);
        Assert.Equal(96, encoder.Low.Config.ImageSize);
        Assert.Equal(64, encoder.FeatureDim);
        Assert.Equal(64, m.Projector.InDim);
    }

    [Theory]
    [InlineData("projector_type", "mlp_gelu", "projector_type 'mlp_gelu' does not fit vision_config.cls 'HybridVisionTower'")]
    [InlineData("depth", "1", "aligner_config.params.depth 1 is not supported")]
    [InlineData("input_dim", "32", "aligner_config.params.input_dim 32 differs from the SAM tower's 64 output channels")]
    public void Load_BadHybridAligner_NamesTheKey(string key, string value, string expected)
    {
        using var dir = new TempDir();
        string model = WriteTinyHybrid(dir), file = Path.Combine(model, "config.json");
        var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(file))!;
        node["aligner_config"]!["params"]![key] = int.TryParse(value, out int n) ? n : value;
        File.WriteAllText(file, node.ToJsonString());
        var e = Assert.ThrowsAny<FurnaceException>(() => LlavaModel.Load(model));
        Assert.Contains(expected, e.Message);
        Assert.Contains("config.json", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Caption_RealPhoto_MatchesPyTorchReference()
    {
        using var dir = new TempDir();
        string model = WriteTinyHybrid(dir);
        using var m = LlavaModel.Load(model);
        using var ctx = new KernelContext(2);
        RgbImage[] images = [ImageDecoder.Load(SharedPaths.CocoPhotos().Skip(3).First())];
        string user = CaptionInstruction.UserTurn(CaptionInstruction.For("en"));
        string rendered = m.RenderChat(user);
        LlavaPrompt prompt = m.BuildPrompt(rendered, images, ctx);
        float[] features = m.ProjectImages(images, ctx);
        const int steps = 16;
        var result = m.NewGenerator(ctx, 1024).GenerateEmbeddings(prompt.Embeddings, prompt.TextIds,
            new GenerationOptions { MaxTokens = steps, IgnoreEos = true, Sampling = new SamplingOptions { Temperature = 0 } });

        string raw = dir.File("image0.rgb");
        File.WriteAllBytes(raw, images[0].Pixels);
        string req = dir.File("req.json"), res = dir.File("res.json"), px = dir.File("pixels.f32");
        File.WriteAllText(req, JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = model,
            ["images"] = new[] { new Dictionary<string, object> { ["raw"] = raw, ["width"] = images[0].Width, ["height"] = images[0].Height } },
            ["user"] = user.Replace("<image>", "<image_placeholder>", StringComparison.Ordinal), ["system"] = null, ["max_tokens"] = steps, ["pixels_out"] = px,
        }));
        PyTorchOracle.Run("deepseek_vl_reference.py", req, res);
        using var reference = JsonDocument.Parse(File.ReadAllBytes(res));
        JsonElement r = reference.RootElement;

        Assert.Equal(r.GetProperty("prompt").GetString(), rendered);
        Assert.Equal(r.GetProperty("input_ids").EnumerateArray().Select(t => t.GetInt32()).ToArray(), prompt.InputIds);
        Assert.Equal(576, prompt.InputIds.Count(id => id == m.ImageTokenIndex));

        double[] expected = r.GetProperty("features").EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        Assert.Equal(expected.Length, features.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(features[i] - expected[i]) / Math.Max(1, Math.Abs(expected[i])));
        Assert.True(worst <= 1e-4, $"projected features differ by {worst:E2}");
        Assert.Equal(r.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray(), result.TokenIds.ToArray());
    }
}
