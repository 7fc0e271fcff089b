// The LLaVA composition against a plain-PyTorch float64 reference written from transformers' modeling_llava.py and
// modeling_llama.py (Oracles/llava_reference.py) on a tiny random checkpoint in the real HF layout (RandomLlava:
// vision_tower.*, multi_modal_projector.*, language_model.*; synthetic tokenizer.json): projected image features
// within 1e-4 and the greedy continuation of a two-image prompt token for token.
using System.Text.Json;
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models;

public sealed class LlavaOracleTests
{
    public static RgbImage RandomImage(int width, int height, int seed)
    {
        var rng = new Random(seed);
        var px = new byte[width * height * 3];
        rng.NextBytes(px);
        return new RgbImage(width, height, px);
    }

    public static string WriteTiny(TempDir dir, int seed = 5)
    {
        string model = Path.Combine(dir.Path, "llava");
        TinyLlava.Write(model, seed);
        return model;
    }

    [Fact]
    public void LoadsTheHfLayout()
    {
        using var dir = new TempDir();
        using var m = LlavaModel.Load(WriteTiny(dir));
        Assert.Equal(16, m.TokensPerImage);
        Assert.Equal(320, m.ImageTokenIndex);
        Assert.Equal(64, m.Projector.OutDim);
        Assert.Equal("USER: <image>\nhi ASSISTANT:", m.RenderChat("<image>\nhi")); // the test template is not one we recognise
    }

    [Fact]
    public void PlaceholderCountMustMatchImages()
    {
        using var dir = new TempDir();
        using var m = LlavaModel.Load(WriteTiny(dir));
        using var ctx = new KernelContext(1);
        var e = Assert.Throws<FurnaceException>(() => m.BuildPrompt("<image> and <image>", [RandomImage(32, 32, 1)], ctx));
        Assert.Contains("2 <image> placeholders but 1 image", e.Message);
        var p = m.BuildPrompt("a <image> b <image>", [RandomImage(32, 32, 1), RandomImage(40, 30, 2)], ctx);
        Assert.Equal(2 * 16, p.InputIds.Count(id => id == 320));
        Assert.Equal(p.Positions * 64, p.Embeddings.Length);
    }

    [Fact]
    public void MatchesPyTorch()
    {
        using var dir = new TempDir();
        string model = WriteTiny(dir);
        using var m = LlavaModel.Load(model);
        using var ctx = new KernelContext(2);
        RgbImage[] images = [RandomImage(32, 32, 3), RandomImage(50, 37, 4)];
        var encoder = (ClipVisionEncoder)m.Vision;
        float[] pixels = encoder.Pixels(images);
        float[] features = m.ProjectImages(images, ctx);
        LlavaPrompt prompt = m.BuildPrompt(m.RenderChat("<image>\nfirst, then <image>\nsecond: describe"), images, ctx);
        const int steps = 16;
        var gen = m.NewGenerator(ctx, 256);
        var result = gen.GenerateEmbeddings(prompt.Embeddings, prompt.TextIds,
            new GenerationOptions { MaxTokens = steps, IgnoreEos = true, Sampling = new SamplingOptions { Temperature = 0 } });

        string px = dir.File("pixels.f32"), req = dir.File("req.json"), res = dir.File("res.json");
        File.WriteAllBytes(px, System.Runtime.InteropServices.MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray());
        File.WriteAllText(req, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model"] = model, ["pixels"] = px, ["images"] = images.Length, ["input_ids"] = prompt.InputIds, ["max_tokens"] = steps,
        }));
        PyTorchOracle.Run("llava_reference.py", req, res);
        using var reference = JsonDocument.Parse(File.ReadAllBytes(res));

        double[] expected = reference.RootElement.GetProperty("features").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();
        Assert.Equal(expected.Length, features.Length);
        double worst = 0;
        for (int i = 0; i < expected.Length; i++) worst = Math.Max(worst, Math.Abs(features[i] - expected[i]) / Math.Max(1, Math.Abs(expected[i])));
        Assert.True(worst <= 1e-4, $"projected features differ by {worst:E2}");
        int[] tokens = reference.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(tokens, result.TokenIds.ToArray());
    }
}
