// The CLIP towers against a plain-PyTorch float64 reference written from transformers' modeling_clip.py
// (Oracles/clip_reference.py) on tiny random checkpoints written by RandomClip in the real HF layout: vision hidden
// states (every layer, CLS kept or dropped), image and text embeddings, logits and probabilities.
// Tolerance: |ours - reference| <= 1e-4 * max(1, |reference|), i.e. absolute below 1, relative above.
using System.Text.Json;
using Furnace.Models.Clip;
using Furnace.Tensors;
using Furnace.Tests.Support;
using Xunit.Abstractions;

namespace Furnace.Tests.Models;

public sealed class ClipOracleFixture : IDisposable
{
    public const int Images = 2;

    // EOS rule: eos_token_id 50 is not the largest id, so pooling at the first 50 differs from the argmax rule
    public static readonly int[][] Texts =
    [
        [98, 5, 17, 50, 99],
        [98, 60, 61, 62, 63, 64, 50],
        [98, 50],
        [98, 3, 50, 70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82], // tokens after EOS, the full context of 16
    ];

    public ClipOracleFixture()
    {
        Config = ClipConfig.Preset("test-tiny") with { Text = ClipConfig.Preset("test-tiny").Text! with { EosTokenId = 50 } };
        Model = Path.Combine(Dir.Path, "clip");
        RandomClip.WriteHuggingFace(Model, Config, seed: 7);
        Pixels = RandomPixels(Images * 3 * 32 * 32, seed: 11);
        Reference = RunReference(Dir, Model, Pixels, Images, Texts);
    }

    public TempDir Dir { get; } = new();

    public ClipConfig Config { get; }

    public string Model { get; }

    public float[] Pixels { get; }

    public JsonDocument Reference { get; }

    public static float[] RandomPixels(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    }

    public static JsonDocument RunReference(TempDir dir, string model, float[] pixels, int images, int[][] texts)
    {
        string pixelsPath = Path.Combine(dir.Path, "pixels.f32"), request = Path.Combine(dir.Path, "request.json"), result = Path.Combine(dir.Path, "result.json");
        File.WriteAllBytes(pixelsPath, System.Runtime.InteropServices.MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray());
        File.WriteAllText(request, JsonSerializer.Serialize(new Dictionary<string, object> { ["model"] = model, ["pixels"] = pixelsPath, ["images"] = images, ["texts"] = texts }));
        PyTorchOracle.Run("clip_reference.py", request, result);
        return JsonDocument.Parse(File.ReadAllBytes(result));
    }

    public void Dispose()
    {
        Reference.Dispose();
        Dir.Dispose();
    }
}

public sealed class ClipOracleTests : IClassFixture<ClipOracleFixture>
{
    private readonly ClipOracleFixture _f;
    private readonly ITestOutputHelper _out;

    public ClipOracleTests(ClipOracleFixture f, ITestOutputHelper output)
    {
        _f = f;
        _out = output;
    }

    private static double[] Flat(JsonElement e)
    {
        var list = new List<double>();
        void Walk(JsonElement x)
        {
            if (x.ValueKind == JsonValueKind.Array) foreach (var y in x.EnumerateArray()) Walk(y);
            else list.Add(x.GetDouble());
        }
        Walk(e);
        return [.. list];
    }

    private double AssertClose(string what, ReadOnlySpan<float> ours, double[] expected, double tolerance = 1e-4)
    {
        Assert.Equal(expected.Length, ours.Length);
        double worst = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            double err = Math.Abs(ours[i] - expected[i]) / Math.Max(1, Math.Abs(expected[i]));
            worst = Math.Max(worst, err);
            Assert.True(err <= tolerance, $"{what}[{i}] = {ours[i]}, reference {expected[i]}");
        }
        _out.WriteLine($"{what}: {ours.Length} values, max scaled difference {worst:E2}");
        return worst;
    }

    [Theory]
    [InlineData(true)]  // pre-packed f32 panels (MatMulPanel, fused bias/residual epilogues) where AVX-512 runs them
    [InlineData(false)] // the row-major MatMul path
    public void ImageEmbeddings_MatchPyTorch(bool packWeights)
    {
        using var model = ClipModel.Load(_f.Model);
        model.Vision.PackWeights = packWeights;
        using var ctx = new KernelContext(2);
        float[] embeds = model.Vision.EncodeImages(_f.Pixels, ClipOracleFixture.Images, ctx);
        Assert.Equal(packWeights && System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated, model.Vision.PackedBytes > 0);
        AssertClose("image_embeds", embeds, Flat(_f.Reference.RootElement.GetProperty("image_embeds")));
        // one image alone gives the same embedding as in the batch
        float[] second = model.Vision.EncodeImage(_f.Pixels.AsSpan(3 * 32 * 32), ctx);
        AssertClose("image_embeds[1] alone", second, Flat(_f.Reference.RootElement.GetProperty("image_embeds")[1]));
    }

    [Theory]
    [InlineData(-2, VisionFeatureStrategy.Default)] // LLaVA: input of the last layer, patches only
    [InlineData(-1, VisionFeatureStrategy.Full)]    // last_hidden_state
    [InlineData(0, VisionFeatureStrategy.Full)]     // embeddings after pre_layrnorm
    [InlineData(1, VisionFeatureStrategy.Default)]
    public void HiddenStates_MatchPyTorch(int layer, VisionFeatureStrategy strategy)
    {
        using var tower = ClipVisionTower.Load(_f.Model);
        using var ctx = new KernelContext(2);
        float[] ours = tower.HiddenStates(_f.Pixels, ClipOracleFixture.Images, layer, strategy, ctx);
        var all = _f.Reference.RootElement.GetProperty("hidden_states");
        int index = layer < 0 ? all.GetArrayLength() + layer : layer;
        var expected = new List<double>();
        foreach (var image in all[index].EnumerateArray())
        {
            int t = 0;
            foreach (var token in image.EnumerateArray())
            {
                if (t++ == 0 && strategy == VisionFeatureStrategy.Default) continue;
                expected.AddRange(Flat(token));
            }
        }
        AssertClose($"hidden_states[{layer}] {strategy}", ours, [.. expected]);
    }

    [Fact]
    public void TextEmbeddingsAndSimilarity_MatchPyTorch()
    {
        using var model = ClipModel.Load(_f.Model);
        using var ctx = new KernelContext(2);
        Assert.False(model.Text.Config.PoolsAtArgmax);
        float[] text = model.Text.EncodeTexts(ClipOracleFixture.Texts, ctx);
        AssertClose("text_embeds", text, Flat(_f.Reference.RootElement.GetProperty("text_embeds")));
        ClipSimilarity sim = model.Similarity(_f.Pixels, ClipOracleFixture.Images, ClipOracleFixture.Texts, ctx);
        Assert.Equal((2, 4), (sim.Images, sim.Texts));
        AssertClose("logits_per_image", sim.LogitsPerImage, Flat(_f.Reference.RootElement.GetProperty("logits_per_image")));
        AssertClose("probs", sim.Probabilities, Flat(_f.Reference.RootElement.GetProperty("probs")));
    }

    [Theory]
    [InlineData(DType.F32, 1e-4)]
    [InlineData(DType.F16, 2e-3)] // f16 matrices: MatMul rounds activations to f16 as ggml does; the reference keeps them in f64
    public void LegacyEosTokenId2_PoolsAtArgmax_MatchesPyTorch(DType type, double tolerance)
    {
        // The OpenAI configs say eos_token_id 2: transformers then pools at the argmax of the ids (the real EOS 99).
        using var dir = new TempDir();
        var tiny = ClipConfig.Preset("test-tiny");
        var config = tiny with { Text = tiny.Text! with { EosTokenId = 2, BosTokenId = 0, PadTokenId = 1 } };
        string path = Path.Combine(dir.Path, "clip");
        RandomClip.WriteHuggingFace(path, config, seed: 5, type);
        int[][] texts = [[98, 2, 40, 99, 7], [98, 99]];
        float[] pixels = ClipOracleFixture.RandomPixels(3 * 32 * 32, seed: 4);
        using var reference = ClipOracleFixture.RunReference(dir, path, pixels, 1, texts);
        using var model = ClipModel.Load(path);
        using var ctx = new KernelContext(2);
        Assert.True(model.Text.Config.PoolsAtArgmax);
        Assert.Equal(3, model.Text.PoolingIndex(texts[0]));
        AssertClose($"text_embeds ({type} weights, argmax pooling)", model.Text.EncodeTexts(texts, ctx), Flat(reference.RootElement.GetProperty("text_embeds")), tolerance);
        AssertClose($"image_embeds ({type} weights)", model.Vision.EncodeImage(pixels, ctx), Flat(reference.RootElement.GetProperty("image_embeds")), tolerance);
    }
}
