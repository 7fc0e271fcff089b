// `lora merge` as a library call: merged Hugging Face directories and GGUF files hold exactly what the load-time
// merge computes, other files are carried over, and failures leave nothing behind.
using Furnace.Formats.Gguf;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.Lora;

public sealed class LoraCheckpointMergeTests
{
    private static readonly LlamaConfig Tiny = LlamaConfig.Preset("test-tiny");

    private static readonly int[] Tokens = [1, 17, 42, 99, 250, 7, 3, 64];

    private static LoraAdapter Adapter(string targets = "all-linear", string prefix = "") =>
        LoraAdapter.Create(new LoraConfig { Rank = 4, Alpha = 8, Targets = LoraTargets.Parse(targets) }.Validated("test"), Tiny, seed: 5, prefix, randomB: true);

    private static float[] Logits(LlamaModel m)
    {
        using var ctx = new KernelContext(1);
        var s = m.NewState(16, maxBatch: 8);
        m.Forward(Tokens, s, ctx, allLogits: true);
        return s.Logits.AsSpan(0, Tokens.Length * m.Config.VocabSize).ToArray();
    }

    private static string HfBase(TempDir dir, DType type = DType.F32)
    {
        string hf = dir.File("base");
        RandomLlama.WriteHuggingFace(hf, Tiny, type, seed: 7);
        HfTokenizerJson.WriteSynthetic(hf, Tiny.VocabSize);
        return hf;
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.BF16)]
    public void HfToHf_EqualsLoadTimeMerge(DType type)
    {
        using var dir = new TempDir();
        string hf = HfBase(dir, type), output = dir.File("merged");
        var adapter = Adapter();
        Assert.Equal(14, LoraCheckpointMerge.Merge(hf, adapter, output, scaleMultiplier: 0.75f));
        Assert.True(File.Exists(Path.Combine(output, "tokenizer.json")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(hf, "config.json")), File.ReadAllBytes(Path.Combine(output, "config.json")));
        using var merged = ModelLoader.OpenLlama(output);
        using var loaded = ModelLoader.OpenLlama(hf, adapter, 0.75f);
        using var plain = ModelLoader.OpenLlama(hf);
        Assert.Equal(Logits(loaded), Logits(merged));
        Assert.NotEqual(Logits(plain), Logits(merged));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(dir.Path), p => p.EndsWith(".tmp", StringComparison.Ordinal));
    }

    [Fact]
    public void HfToGguf_F32_MatchesLoadTimeMerge()
    {
        using var dir = new TempDir();
        string hf = HfBase(dir), gguf = dir.File("merged.gguf");
        var adapter = Adapter("q_proj,k_proj,down_proj");
        Assert.Equal(6, LoraCheckpointMerge.Merge(hf, adapter, gguf));
        using var merged = ModelLoader.OpenLlama(gguf);
        Assert.Equal(DType.F32, merged.Weights.Layers[0].Wq.Type);
        using var loaded = ModelLoader.OpenLlama(hf, adapter);
        float[] a = Logits(merged), b = Logits(loaded);
        Assert.True(a.Zip(b).Max(p => Math.Abs(p.First - p.Second)) < 1e-4f);
    }

    [Theory]
    [InlineData(DType.Q8_0)]
    [InlineData(DType.Q4_0)]
    public void GgufToGguf_Quantized_EqualsLoadTimeMerge(DType type)
    {
        using var dir = new TempDir();
        string baseGguf = dir.File("base.gguf"), merged = dir.File("merged.gguf");
        RandomLlama.WriteGguf(baseGguf, Tiny, type, seed: 7);
        var adapter = Adapter();
        LoraCheckpointMerge.Merge(baseGguf, adapter, merged);
        using (var f = GgufFile.Open(merged))
        using (var b = GgufFile.Open(baseGguf))
        {
            Assert.Equal(b.MetadataKeys, f.MetadataKeys);
            Assert.Equal(type, f.FindTensor("blk.1.ffn_down.weight")!.Type);
        }
        using var fromFile = ModelLoader.OpenLlama(merged);
        using var atLoad = ModelLoader.OpenLlama(baseGguf, adapter);
        Assert.Equal(Logits(atLoad), Logits(fromFile));
    }

    [Fact]
    public void LlavaToHf_MergesLanguageModelOnly()
    {
        using var dir = new TempDir();
        string llava = dir.File("llava"), output = dir.File("merged");
        LlavaConfig config = TinyLlava.Write(llava, seed: 5);
        var adapter = LoraAdapter.Create(new LoraConfig { Rank = 2, Targets = LoraTargets.Parse("q_proj,v_proj") }.Validated("t"), config.Text, seed: 3, LoraModules.LlavaPrefix, randomB: true);
        LoraCheckpointMerge.Merge(llava, adapter, output);
        Assert.True(File.Exists(Path.Combine(output, "preprocessor_config.json")));
        using var a = LlavaModel.Load(output);
        using var b = LlavaModel.Load(llava, adapter);
        using var c = LlavaModel.Load(llava);
        var ra = new float[config.Text.Dim];
        var rb = new float[config.Text.Dim];
        var rc = new float[config.Text.Dim];
        Dequantize.Row(ra, a.LlamaDecoder.Weights.Layers[1].Wv, 3);
        Dequantize.Row(rb, b.LlamaDecoder.Weights.Layers[1].Wv, 3);
        Dequantize.Row(rc, c.LlamaDecoder.Weights.Layers[1].Wv, 3);
        Assert.Equal(rb, ra);
        Assert.NotEqual(rc, ra);
        Dequantize.Row(ra, a.LlamaDecoder.Weights.Layers[1].Wk, 3);
        Dequantize.Row(rc, c.LlamaDecoder.Weights.Layers[1].Wk, 3);
        Assert.Equal(rc, ra);
    }

    [Fact]
    public void Merge_OutputExists_Refuses()
    {
        using var dir = new TempDir();
        string hf = HfBase(dir);
        Directory.CreateDirectory(dir.File("out"));
        var e = Assert.Throws<FurnaceException>(() => LoraCheckpointMerge.Merge(hf, Adapter(), dir.File("out")));
        Assert.Contains("already exists", e.Message);
    }

    [Fact]
    public void Merge_MismatchedAdapter_LeavesNothing()
    {
        using var dir = new TempDir();
        string hf = HfBase(dir);
        var other = LoraAdapter.Create(new LoraConfig { Rank = 2, Targets = LoraTargets.Parse("o_proj") }.Validated("t"), Tiny with { Heads = 2, KvHeads = 1, HeadDim = 16 }, seed: 1);
        var e = Assert.Throws<FurnaceException>(() => LoraCheckpointMerge.Merge(hf, other, dir.File("out")));
        Assert.Contains("o_proj.lora_A.weight", e.Message);
        Assert.Throws<FurnaceException>(() => LoraCheckpointMerge.Merge(hf, other, dir.File("out.gguf")));
        Assert.Equal(["base"], Directory.EnumerateFileSystemEntries(dir.Path).Select(p => Path.GetFileName(p)!).ToArray());
    }

    [Fact]
    public void Merge_GgufBaseToDirectory_Refuses()
    {
        using var dir = new TempDir();
        string gguf = dir.File("b.gguf");
        RandomLlama.WriteGguf(gguf, Tiny, DType.F32, seed: 1);
        Assert.Contains(".gguf", Assert.Throws<FurnaceException>(() => LoraCheckpointMerge.Merge(gguf, Adapter(), dir.File("out"))).Message);
    }
}
