// OnnxImageEncoder on tiny hand-written graphs: pixel normalization, batching, grid tokens,
// intermediate outputs, and one-line errors naming the file.
using Furnace.Models.Onnx;
using Furnace.Tests.Support;

namespace Furnace.Tests.Onnx;

public sealed class OnnxImageEncoderTests
{
    private static float[] Ramp(int n, float start = -20f, float step = 1.5f) =>
        Enumerable.Range(0, n).Select(i => start + step * i).ToArray();

    // Per channel: mean of max(0, y) over the 16 pixels, y as PixelNormalization defines it.
    private static float[] ExpectedReluPool(float[] image, PixelNormalization n)
    {
        var result = new float[3];
        for (int c = 0; c < 3; c++)
        {
            int src = n.ChannelOrder == ChannelOrder.Bgr ? 2 - c : c;
            float sum = 0;
            for (int p = 0; p < 16; p++)
            {
                float y = (image[src * 16 + p] * n.Scale - (n.MeanImage?[c * 16 + p] ?? 0) - (n.Mean?[c] ?? 0)) / (n.Std?[c] ?? 1);
                sum += Math.Max(0, y);
            }
            result[c] = sum / 16;
        }
        return result;
    }

    [Fact]
    public void Pooled_output_reads_shape_from_the_graph()
    {
        using var dir = new TempDir();
        using var enc = new OnnxImageEncoder(new OnnxEncoderConfig(TinyOnnx.Write(dir, "m.onnx", TinyOnnx.ReluPool(1))));
        Assert.Equal(("pixels", "pooled", 3, 4, 4), (enc.InputName, enc.OutputName, enc.Channels, enc.Height, enc.Width));
        Assert.Equal((1, 3), (enc.TokenCount, enc.FeatureDim));
        float[] image = Ramp(48);
        float[][] f = enc.Encode(image);
        Assert.Single(f);
        Assert.Equal(ExpectedReluPool(image, PixelNormalization.None), f[0], new FloatTolerance(1e-5f));
    }

    [Theory]
    [InlineData("clip")]
    [InlineData("imagenet")]
    [InlineData("bgr-mean-image")]
    public void Normalization_follows_its_formula(string kind)
    {
        PixelNormalization n = kind switch
        {
            "clip" => PixelNormalization.Clip,
            "imagenet" => PixelNormalization.ImageNet,
            _ => new PixelNormalization { ChannelOrder = ChannelOrder.Bgr, MeanImage = Ramp(48, 100f, -3f), Mean = [1, 2, 3], Std = [2, 4, 8] },
        };
        using var dir = new TempDir();
        using var enc = new OnnxImageEncoder(new OnnxEncoderConfig(TinyOnnx.Write(dir, "m.onnx", TinyOnnx.ReluPool(1))) { Normalization = n });
        float[] image = Ramp(48, 0f, 5f);
        Assert.Equal(ExpectedReluPool(image, n), enc.Encode(image)[0], new FloatTolerance(1e-5f));
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(null)]
    public void A_batch_equals_images_one_by_one(long? graphBatch)
    {
        using var dir = new TempDir();
        using var enc = new OnnxImageEncoder(new OnnxEncoderConfig(TinyOnnx.Write(dir, "m.onnx", TinyOnnx.ReluPool(graphBatch))));
        float[][] images = [Ramp(48), Ramp(48, 30f, -2f), Ramp(48, 5f, 0.25f)];
        float[][] batch = enc.Encode(images.SelectMany(x => x).ToArray());
        Assert.Equal(3, batch.Length);
        for (int i = 0; i < 3; i++) Assert.Equal(enc.Encode(images[i])[0], batch[i]);
    }

    [Fact]
    public void Grid_output_becomes_tokens_of_channels()
    {
        using var dir = new TempDir();
        using var enc = new OnnxImageEncoder(new OnnxEncoderConfig(TinyOnnx.Write(dir, "m.onnx", TinyOnnx.Identity())) { OutputKind = OnnxOutputKind.Grid });
        Assert.Equal((6, 3), (enc.TokenCount, enc.FeatureDim));
        float[] image = Ramp(18, 0f, 1f); // (3, 2, 3): channel c, pixel p holds 6c + p
        float[] tokens = enc.Encode(image)[0];
        for (int p = 0; p < 6; p++)
        for (int c = 0; c < 3; c++)
            Assert.Equal(6 * c + p, tokens[p * 3 + c]);
    }

    [Fact]
    public void An_intermediate_value_can_be_the_output()
    {
        using var dir = new TempDir();
        using var enc = new OnnxImageEncoder(new OnnxEncoderConfig(TinyOnnx.Write(dir, "m.onnx", TinyOnnx.ReluPool(1)))
        {
            OutputName = "relu",
            OutputKind = OnnxOutputKind.Grid,
        });
        Assert.Equal((16, 3), (enc.TokenCount, enc.FeatureDim));
        float[] image = Ramp(48);
        float[] tokens = enc.Encode(image)[0];
        for (int p = 0; p < 16; p++)
        for (int c = 0; c < 3; c++)
            Assert.Equal(Math.Max(0, image[c * 16 + p]), tokens[p * 3 + c]);
    }

    [Fact]
    public void Nhwc_graphs_get_interleaved_pixels()
    {
        using var dir = new TempDir();
        // Identity over (1, 2, 3, 3) read as NHWC: H 2, W 3, C 3.
        byte[] model = TinyOnnx.Model([new("Identity", ["x"], ["y"])], [("x", [1, 2, 3, 3])], [("y", [1, 2, 3, 3])]);
        using var enc = new OnnxImageEncoder(new OnnxEncoderConfig(TinyOnnx.Write(dir, "m.onnx", model))
        {
            InputLayout = OnnxInputLayout.Nhwc,
            OutputKind = OnnxOutputKind.Grid, // read back as (N, 2, 3, 3): 9 "tokens" of 2, i.e. the raw HWC buffer
        });
        Assert.Equal((3, 2, 3), (enc.Channels, enc.Height, enc.Width));
        float[] planes = Ramp(18, 0f, 1f);
        float[] raw = enc.Encode(planes)[0];
        // Undo the grid transpose to get the buffer the graph saw, then check it is HWC.
        var hwc = new float[18];
        for (int t = 0; t < 9; t++)
        for (int d = 0; d < 2; d++)
            hwc[d * 9 + t] = raw[t * 2 + d];
        for (int p = 0; p < 6; p++)
        for (int c = 0; c < 3; c++)
            Assert.Equal(planes[c * 6 + p], hwc[p * 3 + c]);
    }

    [Fact]
    public void Missing_file_is_one_line_naming_it()
    {
        using var dir = new TempDir();
        string path = dir.File("nope.onnx");
        var e = Assert.Throws<FurnaceException>(() => new OnnxImageEncoder(new OnnxEncoderConfig(path)));
        AssertOneLineNaming(e, path);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("empty")]
    [InlineData("truncated")]
    public void Not_an_onnx_model_is_one_line_naming_it(string kind)
    {
        using var dir = new TempDir();
        byte[] bytes = kind switch
        {
            "garbage" => "this is not a protobuf, just text\n"u8.ToArray(),
            "empty" => [],
            _ => TinyOnnx.ReluPool(1)[..40],
        };
        string path = TinyOnnx.Write(dir, "bad.onnx", bytes);
        var e = Assert.Throws<FurnaceFormatException>(() => new OnnxImageEncoder(new OnnxEncoderConfig(path)));
        AssertOneLineNaming(e, path);
    }

    [Fact]
    public void Wrong_pixel_count_is_one_line_naming_the_file()
    {
        using var dir = new TempDir();
        string path = TinyOnnx.Write(dir, "m.onnx", TinyOnnx.ReluPool(1));
        using var enc = new OnnxImageEncoder(new OnnxEncoderConfig(path));
        var e = Assert.Throws<FurnaceException>(() => enc.Encode(new float[47]));
        AssertOneLineNaming(e, path);
        Assert.Contains("48", e.Message);
        Assert.Throws<FurnaceException>(() => enc.Encode(ReadOnlySpan<float>.Empty));
    }

    [Fact]
    public void Configured_size_must_match_the_graph()
    {
        using var dir = new TempDir();
        string path = TinyOnnx.Write(dir, "m.onnx", TinyOnnx.ReluPool(1));
        var e = Assert.Throws<FurnaceFormatException>(() => new OnnxImageEncoder(new OnnxEncoderConfig(path) { InputSize = (224, 224) }));
        AssertOneLineNaming(e, path);
        using var ok = new OnnxImageEncoder(new OnnxEncoderConfig(path) { InputSize = (4, 4) });
        Assert.Equal(48, ok.PixelsPerImage);
    }

    [Fact]
    public void Config_errors_name_the_file()
    {
        using var dir = new TempDir();
        string two = TinyOnnx.Write(dir, "two.onnx", TinyOnnx.TwoInputs());
        string pool = TinyOnnx.Write(dir, "pool.onnx", TinyOnnx.ReluPool(1));
        string id = TinyOnnx.Write(dir, "id.onnx", TinyOnnx.Identity());
        var cases = new (string Path, OnnxEncoderConfig Config)[]
        {
            (two, new(two)),                                                       // two inputs, none named
            (two, new(two) { InputName = "c" }),                                   // no such input
            (two, new(two) { InputName = "b" }),                                   // "a" would be left unfed
            (pool, new(pool) { OutputName = "nothing" }),                          // no such value
            (id, new(id)),                                                         // (1, 3, 2, 3) is not pooled
            (pool, new(pool) { Normalization = new() { Mean = [1, 2] } }),         // wrong mean length
            (pool, new(pool) { Normalization = new() { Std = [1, 0, 1] } }),       // zero std
            (pool, new(pool) { Normalization = new() { MeanImage = new float[5] } }),
            (pool, new(pool) { IntraOpThreads = -1 }),
        };
        foreach (var (path, config) in cases)
        {
            var e = Assert.ThrowsAny<FurnaceException>(() => new OnnxImageEncoder(config));
            AssertOneLineNaming(e, path);
        }
        using var named = new OnnxImageEncoder(new OnnxEncoderConfig(id) { InputName = "map", OutputKind = OnnxOutputKind.Grid });
        Assert.Equal((6, 3), (named.TokenCount, named.FeatureDim));
    }

    private static void AssertOneLineNaming(Exception e, string path)
    {
        Assert.StartsWith(path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}

internal sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance * Math.Max(1f, Math.Abs(y));

    public int GetHashCode(float obj) => 0;
}
