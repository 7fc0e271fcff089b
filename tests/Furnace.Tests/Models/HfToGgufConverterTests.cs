// HF directory -> GGUF conversion inside Furnace: the converted file gives the logits of the directory it came from
// (through our own GGUF and HF paths), carries the vocabulary, reports progress, and fails with a message naming the
// problem. The llama.cpp side is in Furnace.Oracle.Tests (ConvertedGgufOracleTests).
using Furnace.Formats.Gguf;
using Furnace.Formats.Tokenizers;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models;

public sealed class HfToGgufConverterTests
{
    private static string WriteHf(TempDir dir, LlamaConfig c, DType type = DType.F32, int shards = 1)
    {
        string hf = dir.File("tiny-model");
        RandomLlama.WriteHuggingFace(hf, c, type, seed: 5, shards);
        HfTokenizerJson.WriteSynthetic(hf, c.VocabSize);
        return hf;
    }

    [Theory]
    [InlineData("test-tiny", DType.F32, 1)]
    [InlineData("test-tiny", DType.BF16, 2)] // bf16 safetensors -> bf16 GGUF: the same bits, the same kernels
    public void Converted_SameTypeAsTheSource_SameLogitsAsTheHfDirectory(string preset, DType sourceType, int shards)
    {
        using var dir = new TempDir();
        var c = LlamaConfig.Preset(preset);
        string hf = WriteHf(dir, c, sourceType, shards), gguf = dir.File("m.gguf");
        var seen = new List<(int, int, string)>();
        HfToGgufConverter.Convert(hf, gguf, sourceType, (i, n, name) => seen.Add((i, n, name)));
        int count = LlamaTensorNames.All(c).Count();
        Assert.Equal(count, seen.Count);
        Assert.Equal((count, count), (seen[^1].Item1, seen[^1].Item2));

        int[] tokens = Enumerable.Range(0, 24).Select(i => 3 + i * 17 % (c.VocabSize - 3)).ToArray();
        float[] Logits(string path)
        {
            using var m = ModelLoader.OpenLlama(path);
            using var ctx = new KernelContext(2);
            var s = m.NewState(64, maxBatch: 32);
            m.Forward(tokens, s, ctx, allLogits: true);
            return s.Logits.AsSpan(0, tokens.Length * c.VocabSize).ToArray();
        }
        float[] a = Logits(hf), b = Logits(gguf);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) < 1e-4f, $"logit {i}: {a[i]} vs {b[i]}");

        using var f = GgufFile.Open(gguf);
        Assert.Equal("tiny-model", f.GetString("general.name"));
        var tok = Tokenizer.FromGguf(f);
        var hfTok = Tokenizer.FromHuggingFace(Path.Combine(hf, "tokenizer.json"));
        Assert.Equal(hfTok.Encode("hello there"), tok.Encode("hello there"));
        Assert.Equal(hfTok.ChatTemplateSource, tok.ChatTemplateSource);
    }

    [Fact]
    public void NotAnHfDirectory_SaysSo()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FurnaceException>(() => HfToGgufConverter.Convert(dir.Path, dir.File("x.gguf"), DType.F16));
        Assert.Contains("no config.json", e.Message);
        e = Assert.Throws<FurnaceException>(() => HfToGgufConverter.Convert(dir.File("nope"), dir.File("x.gguf"), DType.F16));
        Assert.Contains("no such directory", e.Message);
        Assert.False(File.Exists(dir.File("x.gguf")));
    }

    [Fact]
    public void UnsupportedArchitecture_NamesIt()
    {
        using var dir = new TempDir();
        string hf = WriteHf(dir, LlamaConfig.Preset("test-tiny"));
        string cfg = Path.Combine(hf, "config.json");
        File.WriteAllText(cfg, File.ReadAllText(cfg).Replace("LlamaForCausalLM", "MistralForCausalLM", StringComparison.Ordinal));
        var e = Assert.Throws<FurnaceException>(() => HfToGgufConverter.Convert(hf, dir.File("x.gguf"), DType.F16));
        Assert.Contains("MistralForCausalLM", e.Message);
    }

    [Fact]
    public void MissingTensor_NamesTheKey_AndWritesNothing()
    {
        using var dir = new TempDir();
        var c = LlamaConfig.Preset("test-tiny");
        string hf = WriteHf(dir, c);
        // rewrite the checkpoint without one tensor
        var w = new Furnace.Formats.SafeTensors.SafeTensorsWriter();
        foreach (var t in LlamaTensorNames.All(c).Where(t => t.Hf != "model.layers.1.mlp.up_proj.weight"))
            w.Add(t.Hf, t.Shape, RandomLlama.Tensor(c, t.Hf, 5));
        w.Write(Path.Combine(hf, "model.safetensors"));
        var e = Assert.Throws<FurnaceFormatException>(() => HfToGgufConverter.Convert(hf, dir.File("x.gguf"), DType.Q8_0));
        Assert.Contains("'model.layers.1.mlp.up_proj.weight'", e.Message);
        Assert.False(File.Exists(dir.File("x.gguf")));
    }

    [Fact]
    public void NoTokenizer_SaysSo()
    {
        using var dir = new TempDir();
        string hf = WriteHf(dir, LlamaConfig.Preset("test-tiny"));
        File.Delete(Path.Combine(hf, "tokenizer.json"));
        var e = Assert.Throws<FurnaceException>(() => HfToGgufConverter.Convert(hf, dir.File("x.gguf"), DType.F16));
        Assert.Contains("no tokenizer.json", e.Message);
    }
}
