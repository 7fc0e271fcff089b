// DeepSeek-VL 7B's high-resolution half — the SAM tower (sam_b_downsample layout) and the hybrid aligner — against a
// plain-PyTorch float64 reference written from DeepSeek-VL's sam.py / clip_encoder.py / projector.py
// (Oracles/sam_reference.py), on tiny random checkpoints written by RandomSam / RandomHybridAligner under the
// published names (vision_model.vision_tower_high.vision_tower.*, aligner.*). Two shapes:
//   Exact:  image 128, patch 16 (grid 8), width 32, 4 blocks, 2 heads, window 4 (no padding), global blocks 1 and 3,
//           out_chans 16, downsamples 32/64, CLIP pixel_mean/std, aligner depth 2 (n_embed 48).
//   Padded: image 96 (grid 6, windows padded to 8), 3 blocks, 4 heads, global block 1 whose rel_pos tables hold 15
//           rows (trained at grid 8: interpolated to 11) and windowed ones 9 rows (interpolated to 7), no image_norm,
//           aligner depth 3.
// Tolerance: |ours − reference| ≤ 1e-4·max(1, |reference|) (absolute below 1, relative above), as the CLIP oracle.
using System.Runtime.InteropServices;
using System.Text.Json;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models.DeepSeekVl;
using Furnace.Models.Sam;
using Furnace.Tensors;
using Furnace.Tests.Support;
using Xunit.Abstractions;

namespace Furnace.Tests.Models.DeepSeekVl;

public sealed class SamOracleFixture : IDisposable
{
    public static readonly float[] ClipMean = [0.48145466f, 0.4578275f, 0.40821073f];
    public static readonly float[] ClipStd = [0.26862954f, 0.26130258f, 0.27577711f];

    public sealed record Case(string Dir, SamVitConfig Sam, HybridAlignerConfig Aligner, float[] Pixels, float[] Low, JsonDocument Reference);

    public SamOracleFixture()
    {
        Exact = Make("exact", new Dictionary<string, object>
        {
            ["model_name"] = "sam_b_downsample", ["image_size"] = 128, ["width"] = 32, ["layers"] = 4, ["heads"] = 2, ["window_size"] = 4,
            ["global_attn_indexes"] = new[] { 1, 3 }, ["out_chans"] = 16, ["downsample_channels"] = new[] { 32, 64 },
            ["pixel_mean"] = ClipMean, ["pixel_std"] = ClipStd, ["output_dim"] = 64, ["select_layer"] = -1, ["select_feature"] = "same",
        }, depth: 2, nEmbed: 48, relPosGlobal: null, relPosWindow: null);
        Padded = Make("padded", new Dictionary<string, object>
        {
            ["model_name"] = "sam_b_downsample", ["image_size"] = 96, ["width"] = 32, ["layers"] = 3, ["heads"] = 4, ["window_size"] = 4,
            ["global_attn_indexes"] = new[] { 1 }, ["out_chans"] = 16, ["downsample_channels"] = new[] { 32, 64 },
        }, depth: 3, nEmbed: 32, relPosGlobal: 15, relPosWindow: 9);
    }

    public TempDir Dir { get; } = new();

    public Case Exact { get; }

    public Case Padded { get; }

    private Case Make(string name, Dictionary<string, object> high, int depth, int nEmbed, int? relPosGlobal, int? relPosWindow)
    {
        string dir = Path.Combine(Dir.Path, name);
        Directory.CreateDirectory(dir);
        var aligner = new Dictionary<string, object> { ["projector_type"] = HybridAlignerConfig.ProjectorType, ["input_dim"] = 64, ["n_embed"] = nEmbed, ["depth"] = depth };
        string config = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["model_type"] = "multi_modality",
            ["vision_config"] = new Dictionary<string, object> { ["cls"] = "HybridVisionTower", ["params"] = new Dictionary<string, object> { ["concat_type"] = "tuple", ["high_res_cfg"] = high } },
            ["aligner_config"] = new Dictionary<string, object> { ["cls"] = "MlpProjector", ["params"] = aligner },
        });
        File.WriteAllText(Path.Combine(dir, "config.json"), config);
        using var doc = JsonDocument.Parse(config);
        SamVitConfig sam = SamVitConfig.FromParams(doc.RootElement.GetProperty("vision_config").GetProperty("params").GetProperty("high_res_cfg"), "config.json");
        HybridAlignerConfig al = HybridAlignerConfig.FromParams(doc.RootElement.GetProperty("aligner_config").GetProperty("params"), "config.json");
        var w = new SafeTensorsWriter().AddMetadata("format", "pt");
        foreach (var (n, shape, values) in RandomSam.Tower(sam, seed: 3, relPosGlobal, relPosWindow)) w.Add(SamCheckpointNames.Tower(SamCheckpointNaming.DeepSeekVl, n), shape, values);
        foreach (var (n, shape, values) in RandomHybridAligner.Tensors(al, seed: 4)) w.Add("aligner." + n, shape, values);
        w.Write(Path.Combine(dir, SafeTensorsCheckpoint.SingleFileName));

        var rng = new Random(name.Length);
        float[] pixels = Enumerable.Range(0, 3 * sam.ImageSize * sam.ImageSize).Select(_ => (float)rng.NextDouble()).ToArray(); // [0, 1] as the processor leaves them
        float[] low = Enumerable.Range(0, sam.OutputTokens * al.InputDim).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        string pixelsPath = Path.Combine(dir, "pixels.f32"), lowPath = Path.Combine(dir, "low.f32");
        File.WriteAllBytes(pixelsPath, MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray());
        File.WriteAllBytes(lowPath, MemoryMarshal.AsBytes(low.AsSpan()).ToArray());
        var reference = RunReference(dir, new Dictionary<string, object> { ["mode"] = "tower", ["model"] = dir, ["pixels"] = pixelsPath, ["low"] = lowPath });
        return new Case(dir, sam, al, pixels, low, reference);
    }

    public static JsonDocument RunReference(string dir, Dictionary<string, object> request)
    {
        string req = Path.Combine(dir, "request.json"), result = Path.Combine(dir, "result.json");
        File.WriteAllText(req, JsonSerializer.Serialize(request));
        PyTorchOracle.Run("sam_reference.py", req, result);
        return JsonDocument.Parse(File.ReadAllBytes(result));
    }

    public void Dispose()
    {
        Exact.Reference.Dispose();
        Padded.Reference.Dispose();
        Dir.Dispose();
    }
}

public sealed class SamOracleTests : IClassFixture<SamOracleFixture>
{
    private readonly SamOracleFixture _f;
    private readonly ITestOutputHelper _out;

    public SamOracleTests(SamOracleFixture f, ITestOutputHelper output)
    {
        _f = f;
        _out = output;
    }

    private SamOracleFixture.Case Pick(string name) => name == "exact" ? _f.Exact : _f.Padded;

    private static double[] Flat(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    private void AssertClose(string what, ReadOnlySpan<float> ours, double[] expected, double tolerance = 1e-4)
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
    }

    [Theory]
    [InlineData("exact")]
    [InlineData("padded")]
    public void Encode_RandomCheckpoint_MatchesPyTorch(string name)
    {
        var c = Pick(name);
        using var tower = SamVisionTower.Load(c.Dir, c.Sam);
        using var ctx = new KernelContext(2);
        AssertClose($"{name} trunk", tower.EncodeTrunk(c.Pixels, ctx), Flat(c.Reference.RootElement.GetProperty("trunk")));
        float[] high = tower.Encode(c.Pixels, ctx);
        Assert.Equal([c.Sam.OutputTokens, c.Sam.OutputChannels], c.Reference.RootElement.GetProperty("high_shape").EnumerateArray().Select(x => x.GetInt32()));
        Assert.Equal((576, 64), (c.Sam.OutputTokens, c.Sam.OutputChannels)); // 96 → 48 → 24
        AssertClose($"{name} high features", high, Flat(c.Reference.RootElement.GetProperty("high")));
    }

    [Theory]
    [InlineData("exact")]
    [InlineData("padded")]
    public void HybridAligner_TowerFeatures_MatchesPyTorch(string name)
    {
        var c = Pick(name);
        using var tower = SamVisionTower.Load(c.Dir, c.Sam);
        using var source = SafeTensorsCheckpoint.Open(c.Dir);
        var aligner = HybridAligner.Load(new WeightLoader(source), c.Aligner);
        using var ctx = new KernelContext(2);
        float[] rows = aligner.Forward(tower.Encode(c.Pixels, ctx), c.Low, c.Sam.OutputTokens, ctx);
        Assert.Equal([c.Sam.OutputTokens, c.Aligner.NEmbed], c.Reference.RootElement.GetProperty("aligned_shape").EnumerateArray().Select(x => x.GetInt32()));
        AssertClose($"{name} aligned rows", rows, Flat(c.Reference.RootElement.GetProperty("aligned")));
    }

    [Fact]
    public void TransformersLayout_SameWeights_GivesTheSameRows()
    {
        // the exact case's tensors renamed as convert_deepseek_vl_hybrid_weights_to_hf.py renames them
        var c = _f.Exact;
        using var dir = new TempDir();
        var w = new SafeTensorsWriter();
        foreach (var (n, shape, values) in RandomSam.Tower(c.Sam, seed: 3)) w.Add(SamCheckpointNames.Tower(SamCheckpointNaming.Transformers, n), shape, values);
        foreach (var (n, shape, values) in RandomHybridAligner.Tensors(c.Aligner, seed: 4)) w.Add(SamCheckpointNames.Aligner(SamCheckpointNaming.Transformers, n), shape, values);
        w.Write(Path.Combine(dir.Path, SafeTensorsCheckpoint.SingleFileName));
        using var tower = SamVisionTower.Load(dir.Path, c.Sam);
        using var source = SafeTensorsCheckpoint.Open(dir.Path);
        Assert.Equal(SamCheckpointNaming.Transformers, SamCheckpointNames.Detect(new WeightLoader(source)));
        var aligner = HybridAligner.Load(new WeightLoader(source), c.Aligner);
        using var ctx = new KernelContext(2);
        float[] rows = aligner.Forward(tower.Encode(c.Pixels, ctx), c.Low, c.Sam.OutputTokens, ctx);
        AssertClose("transformers-layout aligned rows", rows, Flat(c.Reference.RootElement.GetProperty("aligned")));
    }

    [Theory]
    [InlineData(3, 20, 18, 8, 3, 2, 1, true)]   // stride-2 downsample shape with bias, odd width
    [InlineData(5, 32, 32, 12, 16, 16, 0, true)] // patch embedding
    [InlineData(7, 9, 9, 6, 3, 1, 1, false)]     // neck 3x3
    public void Conv2d_RandomInput_MatchesTorchConv2d(int cin, int h, int w, int cout, int k, int stride, int pad, bool withBias)
    {
        using var dir = new TempDir();
        var s = new Conv2dShape(cin, h, w, cout, k, stride, pad);
        var rng = new Random(cin * 100 + k);
        float[] R(long n) => Enumerable.Range(0, (int)n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        float[] x = R(s.InputLength), weight = R((long)cout * s.Columns), bias = withBias ? R(cout) : [];
        string Save(string n, float[] v)
        {
            string p = Path.Combine(dir.Path, n);
            File.WriteAllBytes(p, MemoryMarshal.AsBytes(v.AsSpan()).ToArray());
            return p;
        }
        using var reference = SamOracleFixture.RunReference(dir.Path, new Dictionary<string, object?>
        {
            ["mode"] = "conv2d", ["x"] = Save("x.f32", x), ["weight"] = Save("w.f32", weight), ["bias"] = withBias ? Save("b.f32", bias) : null,
            ["shape"] = new[] { cin, h, w }, ["out"] = cout, ["kernel"] = k, ["stride"] = stride, ["padding"] = pad,
        }!);
        using var buf = NativeBuffer.FromFloats(weight, cout, s.Columns, DType.F32);
        using var ctx = new KernelContext(2);
        var y = new float[s.OutputLength];
        Conv2d.Forward(y, x, s, false, buf.AsMatrix(cout, s.Columns, DType.F32), bias, ctx);
        AssertClose("conv2d", y, Flat(reference.RootElement.GetProperty("y")));
    }

    [Theory]
    [InlineData(64, 24)]  // the 1024 → 384 ratio (8:3) at test size
    [InlineData(40, 40)]  // same size: identity
    [InlineData(30, 45)]  // upscaling
    public void LowResInput_RandomPixels_MatchesTorchAntialiasedInterpolate(int size, int low)
    {
        using var dir = new TempDir();
        var rng = new Random(size + low);
        float[] x = Enumerable.Range(0, 3 * size * size).Select(_ => (float)rng.NextDouble()).ToArray();
        string path = Path.Combine(dir.Path, "x.f32");
        File.WriteAllBytes(path, MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
        using var reference = SamOracleFixture.RunReference(dir.Path, new Dictionary<string, object> { ["mode"] = "resize_aa", ["x"] = path, ["size"] = size, ["low"] = low });
        AssertClose("low-resolution view", HybridLowResInput.Resize(x, size, low), Flat(reference.RootElement.GetProperty("y")), 1e-6);
    }
}
