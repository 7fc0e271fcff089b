// llama.cpp mmproj GGUF export and import of the CLIP vision tower (ClipMmprojExport / ClipMmproj): a Hugging Face
// checkpoint written to an f32 mmproj and read back through the same model code gives bit-identical hidden states,
// embeddings and LLaVA features; the file carries llama.cpp's keys, names and ggml shapes.
using Furnace.Formats.Gguf;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models.Clip;
using Furnace.Models.Projectors;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models;

public sealed class ClipMmprojTests
{
    private static readonly ClipVisionConfig Tiny = ClipConfig.Preset("test-tiny").Vision;

    [Fact]
    public void BareClipRoundTripIsIdentical()
    {
        using var dir = new TempDir();
        ClipConfig c = ClipConfig.Preset("test-tiny");
        string hf = dir.File("clip"), gguf = dir.File("mmproj.gguf");
        RandomClip.WriteHuggingFace(hf, c, seed: 3);
        ClipMmprojExport.FromHuggingFace(hf, gguf, DType.F32);
        float[] pixels = ClipOracleFixture.RandomPixels(2 * 3 * 32 * 32, seed: 5);
        using var ctx = new KernelContext(2);
        using var ours = ClipVisionTower.Load(hf);
        using var mm = ClipMmproj.Load(gguf);
        Assert.Null(mm.Projector);
        Assert.Equal(c.Vision, mm.Header.Vision);
        for (int layer = 0; layer <= c.Vision.Layers; layer++)
            Assert.Equal(ours.HiddenStates(pixels, 2, layer, VisionFeatureStrategy.Full, ctx), mm.Tower.HiddenStates(pixels, 2, layer, VisionFeatureStrategy.Full, ctx));
        Assert.Equal(ours.EncodeImages(pixels, 2, ctx), mm.Tower.EncodeImages(pixels, 2, ctx));
    }

    [Fact]
    public void LlavaRoundTripIsIdenticalAndUsesLlamaCppLayout()
    {
        using var dir = new TempDir();
        string hf = dir.File("llava"), gguf = dir.File("mmproj.gguf");
        RandomClip.WriteLlavaVision(hf, Tiny, textDim: 48, seed: 9);
        ClipMmprojExport.FromHuggingFace(hf, gguf, DType.F32);

        using (var f = GgufFile.Open(gguf))
        {
            Assert.Equal("clip", f.Architecture);
            Assert.Equal("mlp", f.GetString("clip.projector_type"));
            Assert.Equal(Tiny.Layers - 1, f.GetInt("clip.vision.block_count"));
            Assert.Equal([Tiny.Layers - 1], f.GetArray<int>("clip.vision.feature_layer")!);
            Assert.Equal(48, f.GetInt("clip.vision.projection_dim"));
            Assert.Equal(Tiny.HiddenSize, f.GetInt("clip.vision.embedding_length"));
            Assert.Equal(3, f.GetArray<float>("clip.vision.image_mean")!.Length);
            Assert.Equal([8L, 8, 3, 64], f.FindTensor("v.patch_embd.weight")!.Shape);
            Assert.Equal([64L, 17], f.FindTensor("v.position_embd.weight")!.Shape);
            Assert.Equal([64L, 128], f.FindTensor("v.blk.0.ffn_up.weight")!.Shape);
            Assert.Equal([64L, 48], f.FindTensor("mm.0.weight")!.Shape);
            Assert.Null(f.FindTensor("v.post_ln.weight"));
            Assert.Null(f.FindTensor($"v.blk.{Tiny.Layers - 1}.attn_q.weight"));
        }

        float[] pixels = ClipOracleFixture.RandomPixels(2 * 3 * 32 * 32, seed: 6);
        using var ctx = new KernelContext(2);
        using ITensorSource source = SafeTensorsCheckpoint.Open(hf);
        var vb = new WeightLoader(source);
        using var tower = new ClipVisionTower(Tiny, ClipVisionWeights.Load(vb.Prefix("vision_tower"), Tiny, null));
        float[] features = tower.HiddenStates(pixels, 2, -2, VisionFeatureStrategy.Default, ctx);
        var projector = Projector.Load(vb.Prefix("multi_modal_projector"), ProjectorKind.Mlp2xGelu, Tiny.HiddenSize, 48);
        var expected = new float[2 * Tiny.Patches * 48];
        projector.Forward(expected, features, 2 * Tiny.Patches, ctx);

        using var mm = ClipMmproj.Load(gguf);
        Assert.Equal(48, mm.OutputDim);
        Assert.Equal(expected, mm.EncodeImages(pixels, 2, ctx));
    }

    [Fact]
    public void F16ExportStaysClose()
    {
        using var dir = new TempDir();
        string hf = dir.File("llava"), f32 = dir.File("f32.gguf"), f16 = dir.File("f16.gguf");
        RandomClip.WriteLlavaVision(hf, Tiny, textDim: 48, seed: 2);
        ClipMmprojExport.FromHuggingFace(hf, f32, DType.F32);
        ClipMmprojExport.FromHuggingFace(hf, f16, DType.F16);
        using (var f = GgufFile.Open(f16))
        {
            Assert.Equal(DType.F16, f.FindTensor("v.patch_embd.weight")!.Type);
            Assert.Equal(DType.F16, f.FindTensor("v.blk.0.attn_q.weight")!.Type);
            Assert.Equal(DType.F32, f.FindTensor("v.blk.0.attn_q.bias")!.Type);
        }
        float[] pixels = ClipOracleFixture.RandomPixels(3 * 32 * 32, seed: 1);
        using var ctx = new KernelContext(1);
        using var a = ClipMmproj.Load(f32);
        using var b = ClipMmproj.Load(f16);
        float[] x = a.EncodeImages(pixels, 1, ctx), y = b.EncodeImages(pixels, 1, ctx);
        double dot = 0, nx = 0, ny = 0;
        for (int i = 0; i < x.Length; i++) { dot += x[i] * y[i]; nx += x[i] * x[i]; ny += y[i] * y[i]; }
        Assert.True(dot / Math.Sqrt(nx * ny) > 0.9999, $"cosine {dot / Math.Sqrt(nx * ny)}");
    }

    [Fact]
    public void WrongArchitectureNamesTheFile()
    {
        using var dir = new TempDir();
        string path = dir.File("llama.gguf");
        Furnace.Models.Llama.RandomLlama.WriteGguf(path, Furnace.Models.Llama.LlamaConfig.Preset("test-tiny"), DType.F32, 1);
        var e = Assert.ThrowsAny<FurnaceException>(() => ClipMmproj.Load(path));
        Assert.Contains("llama.gguf", e.Message);
        Assert.Contains("general.architecture", e.Message);
    }
}
