// Furnace's DeepSeekMoE decoder with plain multi-head attention against llama.cpp's "deepseek" architecture
// (DeepSeek-MoE-16B's GGUF; LLamaSharp 0.30.0, f32 KV cache, flash attention off) on a tiny random-weight file in the
// real layout (attn_q / attn_k / attn_v with grouped-query heads, one dense layer, softmax top-3 of 8 experts + 2
// shared), and on the GGUF that `furnace convert` writes from the same model as a DeepseekForCausalLM directory.
using Furnace.Formats.Gguf;
using Furnace.Models.DeepSeek;
using Furnace.Models.Llama;
using Furnace.Oracle.Tests.Support;
using Furnace.Tensors;

namespace Furnace.Oracle.Tests;

public sealed class DeepSeekMhaOracleTests
{
    private static (float[] Ours, float[][] Expected) Run(string path, int[] tokens)
    {
        float[][] expected;
        using (var cpp = new LlamaCpp(path)) expected = cpp.AllLogits(tokens);
        using var model = DeepSeekModel.FromGguf(GgufFile.Open(path));
        Assert.Equal("deepseek", model.Architecture);
        var state = model.NewState(256, maxBatch: 64);
        using var ctx = new KernelContext(2);
        model.Forward(tokens, state, ctx, allLogits: true);
        return (state.Logits.AsSpan(0, tokens.Length * 320).ToArray(), expected);
    }

    [Fact]
    public void Forward_F32Weights_MatchesLlamaCppLogitsWithin1e4Relative()
    {
        using var dir = new TempDir();
        string path = dir.File("mha.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset("test-mha"), DType.F32, seed: 11);
        var (ours, expected) = Run(path, LlamaCpp.RandomTokens(64, 320, 3));
        double maxDiff = LlamaCpp.MaxAbsDiff(ours, expected);
        double scale = expected.SelectMany(r => r).Max(Math.Abs);
        double spread = expected.SelectMany(r => r).Max() - expected.SelectMany(r => r).Min();
        Assert.True(spread > 1.0, $"llama.cpp logits barely vary (spread {spread}): the test model is degenerate");
        Assert.True(maxDiff / scale < 1e-4, $"max |logit diff| = {maxDiff:E3} of max |logit| {scale:F3} (relative {maxDiff / scale:E3})");
    }

    [Fact]
    public void Forward_Q8_0Weights_SameArgmaxAndCosineAtEveryPosition()
    {
        using var dir = new TempDir();
        string path = dir.File("mha-q8.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset("test-mha"), DType.Q8_0, seed: 11);
        int[] tokens = LlamaCpp.RandomTokens(48, 320, 4);
        var (ours, expected) = Run(path, tokens);
        double minCos = 1;
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.Equal(LlamaCpp.ArgMax(expected[i]), LlamaCpp.ArgMax(ours.AsSpan(i * 320, 320)));
            minCos = Math.Min(minCos, LlamaCpp.Cosine(ours.AsSpan(i * 320, 320), expected[i]));
        }
        Assert.True(minCos >= 0.999, $"min cosine {minCos:F6}");
    }

    [Fact]
    public void Convert_DeepseekForCausalLmDirectory_LlamaCppLoadsItAndMatchesWithin1e4Relative()
    {
        using var dir = new TempDir();
        var c = DeepSeekConfig.Preset("test-mha");
        string hf = dir.File("hf"), gguf = dir.File("converted.gguf");
        RandomDeepSeek.WriteHuggingFace(hf, c, seed: 12);
        DeepSeekHfToGguf.Convert(hf, gguf, DType.F32, RandomLlama.SyntheticVocab(c.VocabSize));
        var (ours, expected) = Run(gguf, LlamaCpp.RandomTokens(40, 320, 5));
        double rel = LlamaCpp.MaxAbsDiff(ours, expected) / expected.SelectMany(r => r).Max(Math.Abs);
        Assert.True(rel < 1e-4, $"relative max |logit diff| {rel:E3}");
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.Q8_0)]
    public void GreedyDecode_32Tokens_IdenticalToLlamaCpp(DType type)
    {
        using var dir = new TempDir();
        string path = dir.File("mha.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset("test-mha"), type, seed: 5);
        int[] prompt = [1, 40, 41, 42, 100, 200, 7];
        List<int> expected;
        using (var cpp = new LlamaCpp(path)) expected = cpp.Greedy(prompt, 32);

        using var model = DeepSeekModel.FromGguf(GgufFile.Open(path));
        var state = model.NewState(256);
        using var ctx = new KernelContext(2);
        var ours = new List<int>();
        model.Forward(prompt, state, ctx);
        for (int n = 0; n < 32; n++)
        {
            int next = LlamaCpp.ArgMax(state.Logits.AsSpan(0, 320));
            ours.Add(next);
            model.Forward([next], state, ctx);
        }
        Assert.Equal(expected, ours);
        Assert.True(expected.Distinct().Count() > 3, "degenerate test: greedy output barely varies");
    }
}
