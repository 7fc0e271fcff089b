// The real ResNet18 from NuGet (Microsoft.ML.DnnImageFeaturizer.ResNet18 0.23.1) as a vision tower.
// Oracle: ONNX Runtime running ML.NET's own two-graph chain, ResNetPreprocess.onnx then ResNet18.onnx,
// on the same pixels must equal our one-session path (preprocessing done by PixelNormalization).
using Furnace.Models.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Furnace.Tests.Onnx;

public sealed class ResNet18Fixture : IDisposable
{
    public OnnxImageEncoder Pooled { get; } = ResNet18.Open(intraOpThreads: 2);

    public void Dispose() => Pooled.Dispose();
}

public sealed class ResNet18Tests(ResNet18Fixture fixture) : IClassFixture<ResNet18Fixture>
{
    private static readonly string[] Photos = ["000000000139", "000000000802", "000000011813"];

    private OnnxImageEncoder Encoder => fixture.Pooled;

    [Fact]
    public void Ships_next_to_the_binary_and_loads_from_there()
    {
        Assert.True(File.Exists(Path.Combine(ResNet18.DefaultDirectory, ResNet18.ModelFile)));
        Assert.True(File.Exists(Path.Combine(ResNet18.DefaultDirectory, ResNet18.PreprocessFile)));
        Assert.Equal((ResNet18.InputName, ResNet18.PooledOutput), (Encoder.InputName, Encoder.OutputName));
        Assert.Equal((3, 224, 224), (Encoder.Channels, Encoder.Height, Encoder.Width));
        Assert.Equal((1, 512), (Encoder.TokenCount, Encoder.FeatureDim));
    }

    [Fact]
    public void A_coco_photo_gives_512_finite_nonnegative_features()
    {
        float[] f = Encoder.EncodeRgb24(CocoPhotos.Rgb224(Photos[0]));
        Assert.Equal(512, f.Length);
        Assert.All(f, v => Assert.True(float.IsFinite(v) && v >= 0)); // the mean of a ReLU map
        Assert.True(f.Count(v => v > 0) > 256, "most channels fire on a real photo");
    }

    [Fact]
    public void Features_are_deterministic()
    {
        byte[] rgb = CocoPhotos.Rgb224(Photos[1]);
        Assert.Equal(Encoder.EncodeRgb24(rgb), Encoder.EncodeRgb24(rgb));
        using var again = ResNet18.Open(intraOpThreads: 1);
        Assert.Equal(Encoder.EncodeRgb24(rgb), again.EncodeRgb24(rgb), new FloatTolerance(1e-5f));
    }

    [Fact]
    public void Equals_ml_nets_two_graph_chain_run_by_onnx_runtime()
    {
        string dir = ResNet18.DefaultDirectory;
        using var options = new SessionOptions { IntraOpNumThreads = 2 };
        using var prep = new InferenceSession(Path.Combine(dir, ResNet18.PreprocessFile), options);
        using var net = new InferenceSession(Path.Combine(dir, ResNet18.ModelFile), options);
        using var run = new RunOptions();
        Assert.Equal("OriginalInput", prep.InputMetadata.Keys.Single());
        Assert.Equal([1, 3, 224, 224], prep.InputMetadata["OriginalInput"].Dimensions);
        Assert.Equal("PreprocessedInput", prep.OutputMetadata.Keys.Single());
        Assert.Equal([1, 512, 1, 1], net.OutputMetadata[ResNet18.PooledOutput].Dimensions);

        foreach (string id in Photos)
        {
            float[] planes = OnnxImageEncoder.PlanesFromRgb24(CocoPhotos.Rgb224(id), 224, 224);
            using var original = OrtValue.CreateTensorValueFromMemory(planes, [1, 3, 224, 224]);
            using var prepped = prep.Run(run, ["OriginalInput"], [original], ["PreprocessedInput"]);
            using var pooled = net.Run(run, [ResNet18.InputName], [prepped[0]], [ResNet18.PooledOutput]);
            float[] expected = pooled[0].GetTensorDataAsSpan<float>().ToArray();

            float[] actual = Encoder.Encode(planes)[0];
            Assert.Equal(512, expected.Length);
            float maxDiff = expected.Zip(actual, (a, b) => Math.Abs(a - b)).Max();
            Assert.True(maxDiff <= 1e-5f, $"{id}: max |diff| {maxDiff}");
        }

        // The comparison can tell: RGB order instead of BGR is far off.
        OnnxEncoderConfig rgbConfig = ResNet18.Config(intraOpThreads: 2);
        using var rgbOrder = new OnnxImageEncoder(rgbConfig with { Normalization = rgbConfig.Normalization with { ChannelOrder = ChannelOrder.Rgb } });
        float[] p0 = OnnxImageEncoder.PlanesFromRgb24(CocoPhotos.Rgb224(Photos[0]), 224, 224);
        float wrong = rgbOrder.Encode(p0)[0].Zip(Encoder.Encode(p0)[0], (a, b) => Math.Abs(a - b)).Max();
        Assert.True(wrong > 1e-2f, $"RGB order differs by only {wrong}");
    }

    [Fact]
    public void A_batch_equals_images_one_by_one()
    {
        float[][] planes = Photos.Select(id => OnnxImageEncoder.PlanesFromRgb24(CocoPhotos.Rgb224(id), 224, 224)).ToArray();
        float[][] batch = Encoder.Encode(planes.SelectMany(p => p).ToArray());
        Assert.Equal(Photos.Length, batch.Length);
        for (int i = 0; i < Photos.Length; i++) Assert.Equal(Encoder.Encode(planes[i])[0], batch[i]);
    }

    [Fact]
    public void The_grid_before_pooling_gives_49_tokens_whose_mean_is_the_pooled_vector()
    {
        using var grid = ResNet18.Open(kind: OnnxOutputKind.Grid, intraOpThreads: 2);
        Assert.Equal(ResNet18.GridOutput, grid.OutputName);
        Assert.Equal((49, 512), (grid.TokenCount, grid.FeatureDim));
        byte[] rgb = CocoPhotos.Rgb224(Photos[2]);
        float[] tokens = grid.EncodeRgb24(rgb);
        float[] pooled = Encoder.EncodeRgb24(rgb);
        var mean = new float[512];
        for (int t = 0; t < 49; t++)
        for (int c = 0; c < 512; c++)
            mean[c] += tokens[t * 512 + c] / 49f;
        Assert.Equal(pooled, mean, new FloatTolerance(1e-4f));
    }

    [Fact]
    public void Different_photos_give_different_features()
    {
        float[] a = Encoder.EncodeRgb24(CocoPhotos.Rgb224(Photos[0]));
        float[] b = Encoder.EncodeRgb24(CocoPhotos.Rgb224(Photos[1]));
        Assert.True(a.Zip(b, (x, y) => Math.Abs(x - y)).Max() > 0.1f);
    }

    [Fact]
    public void A_missing_model_directory_says_where_the_file_comes_from()
    {
        string dir = Path.Combine(Path.GetTempPath(), "furnace-no-such-dir");
        var e = Assert.Throws<FurnaceException>(() => ResNet18.Config(dir));
        Assert.StartsWith(Path.Combine(dir, ResNet18.ModelFile), e.Message);
        Assert.Contains("Microsoft.ML.DnnImageFeaturizer.ResNet18", e.Message);
    }
}
