// llama.cpp (LLamaSharp 0.30.0's mtmd) loads the mmproj files ClipMmprojExport writes and encodes an image through
// them. Loading is the compatibility check; numerics are compared against our Hugging Face path (ClipMmprojTests),
// not llama.cpp, whose LLaVA graph places CLS differently (llama.cpp issue #25814).
using Furnace.Models.Clip;
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Oracle.Tests.Support;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Furnace.Oracle.Tests;

public sealed class MmprojOracleTests
{
    [Theory]
    [InlineData("f32")]
    [InlineData("f16")]
    public void LlamaCppLoadsExportedMmprojAndEncodesAnImage(string typeName)
    {
        Assert.True(DTypes.TryParse(typeName, out DType type));
        using var dir = new TempDir();
        LlamaConfig text = LlamaConfig.Preset("test-tiny");
        ClipVisionConfig vision = ClipConfig.Preset("test-tiny").Vision;
        string hf = dir.File("llava"), mmproj = dir.File("mmproj.gguf"), lm = dir.File("text.gguf");
        RandomClip.WriteLlavaVision(hf, vision, textDim: text.Dim, seed: 4);
        ClipMmprojExport.FromHuggingFace(hf, mmproj, type);
        RandomLlama.WriteGguf(lm, text, DType.F32, seed: 4);

        var p = new ModelParams(lm) { ContextSize = 256, GpuLayerCount = 0, Threads = 2, BatchSize = 256, UBatchSize = 256 };
        using var weights = LLamaWeights.LoadFromFile(p);
        using var ctx = weights.CreateContext(p);
        var mp = MtmdContextParams.Default();
        mp.NThreads = 2;
        mp.UseGpu = false;
        using var mtmd = MtmdWeights.LoadFromFile(mmproj, weights, mp);
        Assert.True(mtmd.SupportsVision);

        var rgb = new byte[vision.ImageSize * vision.ImageSize * 3];
        new Random(1).NextBytes(rgb);
        using var image = SafeMtmdEmbed.FromRgbBytes((uint)vision.ImageSize, (uint)vision.ImageSize, rgb)!;
        int rc = mtmd.Tokenize("look: " + NativeApi.MtmdDefaultMarker(), true, true, [image], out var chunks);
        Assert.Equal(0, rc);
        using (chunks)
        {
            Assert.Contains(chunks!.Enumerate(), c => c.Type == SafeMtmdInputChunk.SafeMtmdInputChunkType.Image);
            int nPast = 0;
            Assert.Equal(0, mtmd.EvaluateChunks(chunks, ctx.NativeHandle, ref nPast, 0, 256, true));
            Assert.True(nPast >= vision.Patches, $"{nPast} positions after the image");
        }
    }
}
