// The same random weights saved as a Hugging Face directory (safetensors, rotate_half order) and as GGUF
// (llama.cpp's permuted Q/K rows) must give the same logits — through our HF path, and through llama.cpp.
using Furnace.Formats.Gguf;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Oracle.Tests.Support;
using Furnace.Tensors;

namespace Furnace.Oracle.Tests;

public sealed class HfVersusGgufTests
{
    public static TheoryData<string, int> Cases => new()
    {
        { "llama", 1 },
        { "llama", 2 },  // sharded safetensors with index
        { "qwen2", 1 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void HuggingFaceDirectory_SameWeights_SameLogitsAsLlamaCppOnGguf(string arch, int shards)
    {
        using var dir = new TempDir();
        var c = arch == "llama"
            ? LlamaLogitsOracleTests.Tiny("llama", 8, 2, 10000f, 1e-5f)
            : LlamaLogitsOracleTests.Tiny("qwen2", 4, 2, 1000000f, 1e-6f, bias: true);
        string gguf = dir.File("m.gguf"), hf = dir.File("hf");
        RandomLlama.WriteGguf(gguf, c, DType.F32, seed: 21);
        RandomLlama.WriteHuggingFace(hf, c, DType.F32, seed: 21, shards);
        int[] tokens = Enumerable.Range(0, 40).Select(i => 3 + i * 37 % (c.VocabSize - 3)).ToArray();

        float[][] expected;
        using (var cpp = new LlamaCpp(gguf)) expected = cpp.AllLogits(tokens);
        using var model = ModelLoader.OpenLlama(hf);
        Assert.Equal(RopeStyle.HalfSplit, model.RopeStyle);
        var state = model.NewState(64, maxBatch: 64);
        using var ctx = new KernelContext(2);
        model.Forward(tokens, state, ctx, allLogits: true);
        double maxDiff = LlamaCpp.MaxAbsDiff(state.Logits, expected);
        Assert.True(maxDiff < 1e-4, $"max |logit diff| = {maxDiff:E3}");
    }

    [Theory]
    [InlineData("llama3")]
    [InlineData("linear")]
    public void RopeScaling_GgufAndHf_MatchLlamaCpp(string kind)
    {
        using var dir = new TempDir();
        var c = kind == "llama3"
            ? LlamaLogitsOracleTests.Tiny("llama", 4, 2, 500000f, 1e-5f) with { RopeScaling = new Llama3RopeScaling(8f, 1f, 4f, 64) }
            : LlamaLogitsOracleTests.Tiny("llama", 4, 2, 100000f, 1e-6f) with { RopeLinearFactor = 4f };
        string gguf = dir.File("m.gguf"), hf = dir.File("hf");
        RandomLlama.WriteGguf(gguf, c, DType.F32, seed: 4);
        RandomLlama.WriteHuggingFace(hf, c, DType.F32, seed: 4);
        int[] tokens = Enumerable.Range(0, 200).Select(i => 3 + i * 11 % (c.VocabSize - 3)).ToArray();

        float[] expected;
        using (var cpp = new LlamaCpp(gguf)) expected = cpp.AllLogits(tokens)[^1];
        foreach (string path in new[] { gguf, hf })
        {
            using var model = ModelLoader.OpenLlama(path);
            var state = model.NewState(256);
            using var ctx = new KernelContext(2);
            model.Forward(tokens, state, ctx);
            double maxDiff = LlamaCpp.MaxAbsDiff(state.Logits, [expected]);
            Assert.True(maxDiff < 1e-4, $"{Path.GetFileName(path)}: max |logit diff| = {maxDiff:E3}");
        }
    }
}
