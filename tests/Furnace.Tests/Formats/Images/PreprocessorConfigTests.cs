// preprocessor_config.json parsing: per-class defaults, legacy integer sizes, LLaVA's aspect setting, errors.
using System.Text;
using Furnace.Formats.Images;
using Furnace.Tests.Support;

namespace Furnace.Tests.Formats.Images;

public sealed class PreprocessorConfigTests
{
    private static ImagePreprocessorConfig Parse(string json) =>
        PreprocessorConfigFile.ToConfig(PreprocessorConfigFile.Parse(Encoding.UTF8.GetBytes(json), "p.json"), "p.json");

    [Fact]
    public void EmptyObject_GetsClipDefaults()
    {
        var c = Parse("{}");
        Assert.Equal("CLIPImageProcessor", c.ProcessorType);
        Assert.Equal(224, c.ShortestEdge);
        Assert.True(c.DoCenterCrop);
        Assert.Equal((224, 224), (c.CropHeight, c.CropWidth));
        Assert.Equal(ResampleFilter.Bicubic, c.Resample);
        Assert.Equal(ImagePreprocessorConfig.OpenAiClipMean, c.Mean);
        Assert.False(c.PadToSquare);
    }

    [Fact]
    public void Siglip_ResizesToSquareWithoutCrop()
    {
        var c = Parse("""{"image_processor_type": "SiglipImageProcessor", "size": 256, "do_center_crop": true}""");
        Assert.Null(c.ShortestEdge);
        Assert.Equal((256, 256), (c.ResizeHeight, c.ResizeWidth));
        Assert.False(c.DoCenterCrop);
        Assert.Equal([0.5, 0.5, 0.5], c.Mean!);
        Assert.Equal((256, 256), c.OutputSize(640, 480));
    }

    [Fact]
    public void LegacyIntegers_MeanShortestEdgeAndSquareCrop()
    {
        var c = Parse("""{"feature_extractor_type": "CLIPFeatureExtractor", "size": 336, "crop_size": 336,}""");
        Assert.Equal(336, c.ShortestEdge);
        Assert.Equal((336, 336), (c.CropHeight, c.CropWidth));
    }

    [Theory]
    [InlineData(640, 480, 224, 298, 224)]
    [InlineData(480, 640, 224, 224, 298)]
    [InlineData(500, 333, 336, 504, 336)]
    [InlineData(100, 100, 224, 224, 224)]
    public void ResizeSize_TruncatesTheLongSideLikeTransformers(int w, int h, int edge, int ew, int eh)
    {
        var c = new ImagePreprocessorConfig { ShortestEdge = edge };
        Assert.Equal((ew, eh), c.ResizeSize(w, h));
    }

    [Fact]
    public void LlavaPad_FromConfigJsonInTheModelDirectory()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("preprocessor_config.json"), """{"size": {"shortest_edge": 336}, "crop_size": {"height": 336, "width": 336}}""");
        File.WriteAllText(dir.File("config.json"), """{"architectures": ["LlavaLlamaForCausalLM"], "image_aspect_ratio": "pad", "mm_vision_tower": "openai/clip-vit-large-patch14-336"}""");
        var c = PreprocessorConfigFile.Load(dir.Path);
        Assert.True(c.PadToSquare);
        Assert.Equal([122, 116, 104], c.PadColor);
    }

    [Fact]
    public void LlavaImageProcessor_DoPad()
    {
        Assert.True(Parse("""{"image_processor_type": "LlavaImageProcessor", "do_pad": true}""").PadToSquare);
        Assert.False(Parse("""{"image_processor_type": "LlavaImageProcessor"}""").PadToSquare);
    }

    [Theory]
    [InlineData("""{"image_processor_type": "ViTImageProcessor"}""", "image_processor_type 'ViTImageProcessor' is not supported")]
    [InlineData("""{"size": {"longest_edge": 10}}""", "size must contain either 'shortest_edge' or 'height' and 'width'")]
    [InlineData("""{"resample": 0}""", "resample 0 is not supported")]
    [InlineData("""{"image_mean": [0.5, 0.5]}""", "image_mean needs 3 values")]
    [InlineData("""{"image_std": [0, 1, 1]}""", "image_std values must be positive")]
    [InlineData("""{"image_aspect_ratio": "anyres"}""", "image_aspect_ratio 'anyres' is not supported")]
    [InlineData("""{"size": {"shortest_edge": -3}}""", "positive shortest_edge")]
    public void BadValues_NameTheFileAndTheProblem(string json, string problem)
    {
        var e = Assert.ThrowsAny<FurnaceException>(() => Parse(json));
        Assert.StartsWith("p.json: ", e.Message);
        Assert.Contains(problem, e.Message);
    }

    [Fact]
    public void NotJson_IsAFormatError()
    {
        var e = Assert.Throws<FurnaceFormatException>(() => Parse("""{"size": "big"}"""));
        Assert.Contains("not a valid preprocessor config", e.Message);
        Assert.Equal("p.json", e.Path);
    }

    [Fact]
    public void MissingFile_ClearError()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FurnaceException>(() => PreprocessorConfigFile.Load(dir.Path));
        Assert.Equal($"{dir.Path}: model directory has no preprocessor_config.json", e.Message);
    }
}
