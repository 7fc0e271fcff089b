// DeepSeek-VL (1.3B layout) end to end against a plain-PyTorch reference written from DeepSeek's public code
// (Oracles/deepseek_vl_reference.py: conversation.py, processing_vlm.py, image_processing_vlm.py, siglip_vit.py,
// projector.py, modeling_vlm.py) on a tiny random checkpoint in the published layout (RandomDeepSeekVl) and real COCO
// photos: the prompt string and ids identical, pixel values within 1e-6, projected features within 1e-4 relative (f32),
// 16 greedy tokens identical; bf16 weights (the published dtype) too, features there within 5e-3 (bf16 activations).
using System.Text.Json;
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Models.DeepSeekVl;
using Furnace.Models.Siglip;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeekVl;

public sealed class DeepSeekVlOracleTests
{
    public static string WriteTiny(TempDir dir, int selectLayer = -1, int seed = 7, DType type = DType.F32)
    {
        string model = Path.Combine(dir.Path, "deepseek-vl");
        RandomDeepSeekVl.Write(model, RandomDeepSeekVl.TestTiny(selectLayer), seed, type);
        return model;
    }

    [Fact]
    public void Load_PublishedLayout_BuildsSiglipLlavaModel()
    {
        using var dir = new TempDir();
        using var m = LlavaModel.Load(WriteTiny(dir));
        var encoder = Assert.IsType<SiglipVisionEncoder>(m.Vision);
        Assert.Equal(3, encoder.Tower.Config.UsedLayers);
        Assert.Equal(239, encoder.Tower.Config.MlpDim);
        Assert.Equal(16, m.TokensPerImage);
        Assert.Equal("<image_placeholder>", m.ImageTag);
        Assert.Equal(258, m.ImageTokenIndex);
        Assert.Equal(DeepSeekVlPromptFormat.DefaultSystemPrompt + "\n\nUser: <image_placeholder>\nhi\n\nAssistant:", m.RenderChat("<image>\nhi"));
    }

    [Theory]
    [InlineData(-1, "en", 2, DType.F32)]
    [InlineData(-2, "zh", 1, DType.F32)]
    [InlineData(-1, "en", 1, DType.BF16)] // the published checkpoints' dtype
    public void Caption_RealPhotos_MatchesPyTorchReference(int selectLayer, string lang, int imageCount, DType type)
    {
        using var dir = new TempDir();
        string model = WriteTiny(dir, selectLayer, type: type);
        using var m = LlavaModel.Load(model);
        using var ctx = new KernelContext(2);
        RgbImage[] images = SharedPaths.CocoPhotos().Skip(selectLayer == -1 ? (type == DType.F32 ? 0 : 9) : 5).Take(imageCount).Select(p => ImageDecoder.Load(p)).ToArray();
        string instruction = CaptionInstruction.For(lang);
        string user = imageCount == 1 ? CaptionInstruction.UserTurn(instruction) : "<image> is the first photo, <image> the second. " + instruction;
        string rendered = m.RenderChat(user);
        LlavaPrompt prompt = m.BuildPrompt(rendered, images, ctx);
        float[] features = m.ProjectImages(images, ctx);
        float[] pixels = ((SiglipVisionEncoder)m.Vision).Pixels(images);
        const int steps = 16;
        var result = m.NewGenerator(ctx, 512).GenerateEmbeddings(prompt.Embeddings, prompt.TextIds,
            new GenerationOptions { MaxTokens = steps, IgnoreEos = true, Sampling = new SamplingOptions { Temperature = 0 } });

        var imageJobs = new List<Dictionary<string, object>>();
        for (int i = 0; i < images.Length; i++)
        {
            string raw = dir.File($"image{i}.rgb");
            File.WriteAllBytes(raw, images[i].Pixels);
            imageJobs.Add(new() { ["raw"] = raw, ["width"] = images[i].Width, ["height"] = images[i].Height });
        }
        string req = dir.File("req.json"), res = dir.File("res.json"), px = dir.File("pixels.f32");
        string nativeUser = user.Replace("<image>", "<image_placeholder>", StringComparison.Ordinal);
        File.WriteAllText(req, JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = model, ["images"] = imageJobs, ["user"] = nativeUser, ["system"] = null, ["max_tokens"] = steps, ["pixels_out"] = px,
        }));
        PyTorchOracle.Run("deepseek_vl_reference.py", req, res);
        using var reference = JsonDocument.Parse(File.ReadAllBytes(res));
        JsonElement r = reference.RootElement;

        Assert.Equal(r.GetProperty("prompt").GetString(), rendered);
        int[] ids = r.GetProperty("input_ids").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(ids, prompt.InputIds);
        Assert.Single(prompt.InputIds, id => id == 256); // BOS exactly once
        Assert.Equal(256, prompt.InputIds[0]);

        float[] refPixels = PilOracle.ReadFloats(px);
        Assert.Equal(refPixels.Length, pixels.Length);
        double worstPixel = refPixels.Select((v, i) => (double)Math.Abs(v - pixels[i])).Max();
        Assert.True(worstPixel <= 1e-6, $"pixel values differ by {worstPixel:E2}");

        double[] expected = r.GetProperty("features").EnumerateArray().SelectMany(row => row.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        Assert.Equal(expected.Length, features.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(features[i] - expected[i]) / Math.Max(1, Math.Abs(expected[i])));
        // bf16 weights: the engine rounds activations to bf16 for their matmuls (MatMul.cs, as llama.cpp does) where the
        // reference widens the weights and stays in float64, so only f32 is held to 1e-4
        double tolerance = type == DType.F32 ? 1e-4 : 5e-3;
        Assert.True(worst <= tolerance, $"projected features differ by {worst:E2}");
        int[] tokens = r.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(tokens, result.TokenIds.ToArray());
    }
}
