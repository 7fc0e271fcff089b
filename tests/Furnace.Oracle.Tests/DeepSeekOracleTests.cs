// Furnace's DeepSeek-V2/V3 decoder (MLA + DeepSeekMoE) against llama.cpp's deepseek2 (LLamaSharp 0.30.0, f32 KV
// cache, flash attention off) on tiny random-weight GGUF files in the real layout, in V2-Lite and V3 proportions.
using Furnace.Formats.Gguf;
using Furnace.Models.DeepSeek;
using Furnace.Oracle.Tests.Support;
using Furnace.Tensors;

namespace Furnace.Oracle.Tests;

public sealed class DeepSeekOracleTests
{
    // V2-Lite: plain q, softmax routing, YaRN. V3: q LoRA, sigmoid + selection bias, norm, scale 2.5, groups.
    public static TheoryData<string> Presets => new() { "test-v2-lite", "test-v3" };

    private static string Write(TempDir dir, string preset, DType type, int seed)
    {
        string path = dir.File($"{preset}-{DTypes.Name(type)}.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset(preset), type, seed, selectionBias: preset == "test-v3");
        return path;
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Forward_F32Weights_MatchesLlamaCppLogitsWithin1e4Relative(string preset)
    {
        using var dir = new TempDir();
        string path = Write(dir, preset, DType.F32, seed: 11);
        int[] tokens = LlamaCpp.RandomTokens(64, 320, 3);

        float[][] expected;
        using (var cpp = new LlamaCpp(path)) expected = cpp.AllLogits(tokens);

        using var model = DeepSeekModel.FromGguf(GgufFile.Open(path));
        var state = model.NewState(256, maxBatch: 64);
        using var ctx = new KernelContext(2);
        model.Forward(tokens, state, ctx, allLogits: true);
        double maxDiff = LlamaCpp.MaxAbsDiff(state.Logits, expected);
        double scale = expected.SelectMany(r => r).Max(Math.Abs);
        double spread = expected.SelectMany(r => r).Max() - expected.SelectMany(r => r).Min();
        Assert.True(spread > 1.0, $"llama.cpp logits barely vary (spread {spread}): the test model is degenerate");
        Assert.True(maxDiff / scale < 1e-4, $"max |logit diff| = {maxDiff:E3} of max |logit| {scale:F3} (relative {maxDiff / scale:E3})");
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.Q8_0)]
    public void Forward_PreMlaFileWithAttnKvB_MatchesLlamaCppMhaPath(DType type)
    {
        // llama.cpp runs such files as plain MHA (k_nope, v decompressed per head); we still absorb and cache latents.
        using var dir = new TempDir();
        string path = dir.File("legacy.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset("test-v3"), type, seed: 13, selectionBias: true, legacyKvB: true);
        int[] tokens = LlamaCpp.RandomTokens(40, 320, 6);

        float[][] expected;
        using (var cpp = new LlamaCpp(path)) expected = cpp.AllLogits(tokens);

        using var model = DeepSeekModel.FromGguf(GgufFile.Open(path));
        var state = model.NewState(256, maxBatch: 64);
        using var ctx = new KernelContext(2);
        model.Forward(tokens, state, ctx, allLogits: true);
        double scale = expected.SelectMany(r => r).Max(Math.Abs), minCos = 1;
        for (int i = 0; i < tokens.Length; i++)
        {
            Assert.Equal(LlamaCpp.ArgMax(expected[i]), LlamaCpp.ArgMax(state.Logits.AsSpan(i * 320, 320)));
            minCos = Math.Min(minCos, LlamaCpp.Cosine(state.Logits.AsSpan(i * 320, 320), expected[i]));
        }
        double rel = LlamaCpp.MaxAbsDiff(state.Logits, expected) / scale;
        if (type == DType.F32) Assert.True(rel < 1e-4, $"relative max |logit diff| {rel:E3}");
        Assert.True(minCos >= 0.999, $"min cosine {minCos:F6}");
    }

    [Theory]
    [MemberData(nameof(Presets))]
    public void Forward_Q8_0Weights_SameArgmaxAndCosineAtEveryPosition(string preset)
    {
        using var dir = new TempDir();
        string path = Write(dir, preset, DType.Q8_0, seed: 11);
        int[] tokens = LlamaCpp.RandomTokens(48, 320, 4);

        float[][] expected;
        using (var cpp = new LlamaCpp(path)) expected = cpp.AllLogits(tokens);

        using var model = DeepSeekModel.FromGguf(GgufFile.Open(path));
        var state = model.NewState(256, maxBatch: 64);
        using var ctx = new KernelContext(2);
        model.Forward(tokens, state, ctx, allLogits: true);
        double minCos = 1;
        for (int i = 0; i < tokens.Length; i++)
        {
            ReadOnlySpan<float> ours = state.Logits.AsSpan(i * 320, 320);
            Assert.Equal(LlamaCpp.ArgMax(expected[i]), LlamaCpp.ArgMax(ours));
            minCos = Math.Min(minCos, LlamaCpp.Cosine(ours, expected[i]));
        }
        Assert.True(minCos >= 0.999, $"min cosine {minCos:F6}");
    }

    [Theory]
    [InlineData("test-v2-lite", DType.F32)]
    [InlineData("test-v3", DType.F32)]
    [InlineData("test-v2-lite", DType.Q8_0)]
    [InlineData("test-v3", DType.Q8_0)]
    public void GreedyDecode_32Tokens_IdenticalToLlamaCpp(string preset, DType type)
    {
        using var dir = new TempDir();
        string path = Write(dir, preset, type, seed: 5);
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
