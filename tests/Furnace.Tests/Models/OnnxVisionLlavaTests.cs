// The LLaVA layout with vision_config model_type onnx_resnet18 (the default model's): config.json parses, a
// ScratchLlava directory loads through LlavaModel.Load with the frozen ResNet18 grid (49 tokens of 512) as the vision
// side, and the model captions an image end to end.
using Furnace.Formats.Images;
using Furnace.Formats.Tokenizers;
using Furnace.Generation;
using Furnace.Models.Llama;
using Furnace.Models.Onnx;
using Furnace.Models.Projectors;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models;

public sealed class OnnxVisionLlavaTests
{
    private static LlavaConfig Config(int imageToken, int vocab = 320) => new()
    {
        OnnxVision = new OnnxVisionSpec(),
        Text = LlamaConfig.Preset("test-tiny") with { VocabSize = vocab, MaxPositions = 128 },
        ImageTokenIndex = imageToken,
        Projector = ProjectorKind.Mlp2xGelu,
    };

    [Fact]
    public void Parse_OnnxResnet18VisionConfig_GivesGridTokens()
    {
        var c = LlavaConfig.Parse(Config(3).ToHfConfigJson(), "config.json");
        Assert.NotNull(c.OnnxVision);
        Assert.Null(c.Vision);
        Assert.Equal((49, 512, OnnxOutputKind.Grid), (c.ImageSeqLength, c.VisionHiddenSize, c.OnnxVision!.Feature));
        Assert.Equal(3, c.ImageTokenIndex);
    }

    [Fact]
    public void Parse_WrongHiddenSize_NamesTheField()
    {
        string json = System.Text.Encoding.UTF8.GetString(Config(3).ToHfConfigJson()).Replace("\"hidden_size\": 512", "\"hidden_size\": 768");
        var e = Assert.Throws<FurnaceException>(() => LlavaConfig.Parse(System.Text.Encoding.UTF8.GetBytes(json), "config.json"));
        Assert.Contains("vision_config.hidden_size", e.Message);
    }

    [Fact]
    public void Load_ScratchLlava_CaptionsThroughResNet18()
    {
        using var dir = new TempDir();
        var bpe = new BpeTrainer { VocabSize = 300 };
        bpe.Add("a red apple on a plain blue background", 4);
        int vocab = bpe.Write(dir.Path, 128);
        int image = Tokenizer.Open(dir.Path).TokenId(BpeTrainer.Image)!.Value;
        ScratchLlava.Write(dir.Path, Config(image, vocab), seed: 1);

        using var model = LlavaModel.Load(dir.Path);
        Assert.Equal(49, model.TokensPerImage);
        Assert.Equal(512, model.Vision.FeatureDim);
        using var ctx = new KernelContext(1);
        var pixels = new byte[64 * 48 * 3];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)(i * 7);
        var result = model.Generate("<image>\n" + CaptionInstruction.English, [new RgbImage(64, 48, pixels)], new GenerationOptions { MaxTokens = 5 }, ctx);
        int text = model.TokenizeSegments(model.RenderChat("<image>\n" + CaptionInstruction.English)).Sum(s => s.Length);
        Assert.Equal(text + 49, result.PromptTokens); // BOS + text around the placeholder, and the 49 image rows
        Assert.InRange(result.GeneratedTokens, 0, 5);
    }
}
