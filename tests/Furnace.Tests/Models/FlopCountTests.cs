// The FLOP counts the benchmarks divide by: ClipVisionFlops against the image-encoder GMACs open_clip's profiler
// publishes for the OpenAI shapes (fvcore counts one multiply-add as one FLOP: ViT-B/32 @224 4.41, ViT-L/14 @336
// 190.7), and LlamaTrainingFlops against the 6·N·T rule plus the attention term written out for a small shape.
using Furnace.Models.Clip;
using Furnace.Models.Llama;

namespace Furnace.Tests.Models;

public sealed class FlopCountTests
{
    [Theory]
    [InlineData("clip-vit-base-patch32", 4.41)]
    [InlineData("clip-vit-large-patch14-336", 190.7)]
    public void ClipVisionFlops_OpenAiImageTower_MatchesPublishedGmacs(string preset, double gmacs)
    {
        ClipConfig c = ClipConfig.Preset(preset);
        double flops = ClipVisionFlops.Tower(c.Vision, c.Vision.Layers) + ClipVisionFlops.Linear(1, c.Vision.HiddenSize, c.ProjectionDim!.Value);
        Assert.Equal(gmacs, flops / 2 / 1e9, gmacs * 0.005); // within the published figure's rounding and the uncounted norms
    }

    [Fact]
    public void ClipVisionFlops_LayersOutOfRange_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ClipVisionFlops.Tower(ClipConfig.Preset("test-tiny").Vision, 3));

    [Fact]
    public void LlamaTrainingFlops_SmallShape_SixFlopsPerParameterPerTokenPlusAttention()
    {
        var c = new LlamaConfig { Architecture = "llama", Dim = 8, Layers = 2, Heads = 2, KvHeads = 1, HeadDim = 4, FfnDim = 12, VocabSize = 10, MaxPositions = 16 };
        // per layer: q 8·8, k 8·4, v 8·4, o 8·8, gate/up/down 3·8·12 = 480; two layers + the head 10·8 = 1040
        Assert.Equal(1040, LlamaTrainingFlops.MatmulParameters(c));
        const int batch = 3, seq = 5, tokens = batch * seq;
        double attention = 12.0 * 2 * 8 * seq * tokens;
        Assert.Equal(6.0 * 1040 * tokens + attention, LlamaTrainingFlops.Step(c, batch, seq));
        Assert.Equal(4.0 * 1040 * tokens + 6.0 * 100 * tokens + attention, LlamaTrainingFlops.Step(c, batch, seq, loraParameters: 100));
    }
}
