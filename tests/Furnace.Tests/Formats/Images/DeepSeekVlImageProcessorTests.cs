// DeepSeek-VL's VLMImageProcessor against a PIL + numpy transcription of image_processing_vlm.py (Oracles/pil_oracle.py
// "deepseek_vl") on real COCO photos: every float within 1e-6; and its resize arithmetic on extreme aspect ratios.
using System.Text;
using System.Text.Json.Nodes;
using Furnace.Formats.Images;
using Furnace.Tests.Support;

namespace Furnace.Tests.Formats.Images;

public sealed class DeepSeekVlImageProcessorTests
{
    private const string Config384 = """{"background_color": [127, 127, 127], "do_normalize": true, "image_mean": [0.5, 0.5, 0.5], "image_processor_type": "VLMImageProcessor", "image_size": 384, "image_std": [0.5, 0.5, 0.5], "min_size": 14, "rescale_factor": 0.00392156862745098}""";

    [Fact]
    public void Preprocess_RealPhotos_MatchesPil()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("preprocessor_config.json"), Config384);
        var pre = DeepSeekVlImageProcessor.Load(dir.Path);
        Assert.Equal(new byte[] { 127, 127, 127 }, pre.Background);
        string[] photos = SharedPaths.CocoPhotos().Take(8).Concat(SharedPaths.CocoPhotos("train2017").Take(4)).ToArray();
        var cfg = JsonNode.Parse(Config384)!;
        var jobs = photos.Select((p, i) => PilOracle.Job("deepseek_vl", p, dir.File($"{i}.f32"), new { config = cfg })).ToList();
        var sizes = PilOracle.Run(dir.Path, jobs);
        for (int i = 0; i < photos.Length; i++)
        {
            PixelValues ours = pre.Preprocess(ImageDecoder.Load(photos[i]));
            Assert.Equal((384, 384), sizes[i]);
            float[] pil = PilOracle.ReadFloats(dir.File($"{i}.f32"));
            Assert.Equal(pil.Length, ours.Data.Length);
            double worst = pil.Select((v, j) => (double)Math.Abs(v - ours.Data[j])).Max();
            Assert.True(worst <= 1e-6, $"{photos[i]}: differs by {worst:E2}");
        }
    }

    [Theory]
    [InlineData(1000, 10, 384, 14)]  // the short side floors at min_size
    [InlineData(640, 427, 384, 256)] // int(427 / 640 * 384) = 256.2 -> 256
    [InlineData(427, 640, 256, 384)]
    public void ResizeSize_LongSideToImageSize_TruncatesShortSide(int w, int h, int ew, int eh)
    {
        var pre = new DeepSeekVlImageProcessor(384, 14, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5]);
        Assert.Equal((ew, eh), pre.ResizeSize(w, h));
    }

    [Fact]
    public void Load_NullMean_PadsWith127AndSkipsNormalize()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("preprocessor_config.json"), """{"image_size": 32, "image_mean": null, "image_std": null, "do_normalize": false}""");
        var pre = DeepSeekVlImageProcessor.Load(dir.Path);
        PixelValues px = pre.Preprocess(RgbImage.Filled(32, 16, 255, 0, 0));
        Assert.Equal(127 / 255f, px[1, 0, 0], 6);  // padding row
        Assert.Equal(1f, px[0, 16, 0], 6);          // image row (pasted at (32 - 16) // 2 = 8)
    }

    [Fact]
    public void Load_MissingImageSize_NamesTheKey()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("preprocessor_config.json"), """{"image_mean": [0.5, 0.5, 0.5]}""");
        var e = Assert.ThrowsAny<FurnaceException>(() => DeepSeekVlImageProcessor.Load(dir.Path));
        Assert.Contains("'image_size'", e.Message);
    }
}
