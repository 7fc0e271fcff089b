// Furnace's decoder against llama.cpp on tiny random-weight GGUF models written by our own writer.
using Furnace.Formats.Gguf;
using Furnace.Models.Llama;
using Furnace.Oracle.Tests.Support;
using Furnace.Tensors;

namespace Furnace.Oracle.Tests;

public sealed class LlamaLogitsOracleTests
{
    public static LlamaConfig Tiny(string arch, int heads, int kvHeads, float theta, float eps, bool bias = false) => new LlamaConfig
    {
        Architecture = arch,
        Dim = 64,
        Layers = 2,
        Heads = heads,
        KvHeads = kvHeads,
        HeadDim = 64 / heads,
        FfnDim = 96,
        VocabSize = 320,
        MaxPositions = 256,
        RmsEps = eps,
        RopeTheta = theta,
        AttentionBias = bias,
    }.Validated("test");

    public static TheoryData<string, int, int, float, float, bool> Shapes => new()
    {
        { "llama", 4, 4, 10000f, 1e-5f, false },   // MHA
        { "llama", 8, 2, 500000f, 1e-6f, false },  // GQA, Llama-3 theta
        { "qwen2", 4, 2, 1000000f, 1e-6f, true },  // Qwen2: NEOX rope, q/k/v biases
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void Forward_F32Weights_MatchesLlamaCppLogitsWithin1e4(string arch, int heads, int kv, float theta, float eps, bool bias)
    {
        using var dir = new TempDir();
        var c = Tiny(arch, heads, kv, theta, eps, bias);
        string path = dir.File("m.gguf");
        RandomLlama.WriteGguf(path, c, DType.F32, seed: 7);
        int[] tokens = LlamaCpp.RandomTokens(64, c.VocabSize, 1);

        float[][] expected;
        using (var cpp = new LlamaCpp(path)) expected = cpp.AllLogits(tokens);

        using var model = LlamaModel.FromGguf(GgufFile.Open(path));
        var state = model.NewState(256, maxBatch: 64);
        using var ctx = new KernelContext(2);
        model.Forward(tokens, state, ctx, allLogits: true);
        double maxDiff = LlamaCpp.MaxAbsDiff(state.Logits, expected);
        double spread = expected.SelectMany(r => r).Max() - expected.SelectMany(r => r).Min();
        Assert.True(spread > 1.0, $"llama.cpp logits barely vary (spread {spread}): the test model is degenerate");
        Assert.True(maxDiff < 1e-4, $"max |logit diff| = {maxDiff:E3}");
    }
}
