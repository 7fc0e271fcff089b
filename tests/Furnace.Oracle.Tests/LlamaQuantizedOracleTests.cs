// Quantized and half-precision weights against llama.cpp. llama.cpp quantizes activations to Q8_0 for Q8_0/Q4_0
// weights (and rounds them to f16 for f16 weights), so logits are compared by ranking and cosine, not 1e-4.
using Furnace.Formats.Gguf;
using Furnace.Models.Llama;
using Furnace.Oracle.Tests.Support;
using Furnace.Tensors;

namespace Furnace.Oracle.Tests;

public sealed class LlamaQuantizedOracleTests
{
    public static TheoryData<DType, string> Cases => new()
    {
        { DType.F16, "llama" },
        { DType.Q8_0, "llama" },
        { DType.Q4_0, "llama" },
        { DType.Q8_0, "qwen2" },
        { DType.Q4_0, "qwen2" },
    };

    private static LlamaConfig Config(string arch) => arch == "llama"
        ? LlamaLogitsOracleTests.Tiny("llama", 8, 2, 10000f, 1e-5f)
        : LlamaLogitsOracleTests.Tiny("qwen2", 4, 2, 1000000f, 1e-6f, bias: true);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_QuantizedWeights_SameTop5AndCosineAtEveryPosition(DType type, string arch)
    {
        using var dir = new TempDir();
        var c = Config(arch);
        string path = dir.File("m.gguf");
        RandomLlama.WriteGguf(path, c, type, seed: 11);
        var rng = new Random(3);
        int[] tokens = Enumerable.Range(0, 64).Select(_ => rng.Next(3, c.VocabSize)).ToArray();

        float[][] expected;
        using (var cpp = new LlamaCpp(path)) expected = cpp.AllLogits(tokens);
        using var model = LlamaModel.FromGguf(GgufFile.Open(path));
        var state = model.NewState(256, maxBatch: 64);
        using var ctx = new KernelContext(2);
        model.Forward(tokens, state, ctx, allLogits: true);

        for (int i = 0; i < tokens.Length; i++)
        {
            ReadOnlySpan<float> ours = state.Logits.AsSpan(i * c.VocabSize, c.VocabSize);
            // argmax exactly; the other four as a set (near-ties may swap order under different summation order)
            int[] want = Top(expected[i], 5), got = Top(ours, 5);
            Assert.Equal(want[0], got[0]);
            Assert.Equal(want.Order(), got.Order());
            double cos = LlamaCpp.Cosine(ours, expected[i]);
            Assert.True(cos >= 0.999, $"position {i}: cosine {cos:F6} < 0.999");
        }
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.Q8_0)]
    [InlineData(DType.Q4_0)]
    public void GreedyDecode_32Tokens_IdenticalToLlamaCpp(DType type)
    {
        using var dir = new TempDir();
        var c = Config("llama");
        string path = dir.File("m.gguf");
        RandomLlama.WriteGguf(path, c, type, seed: 5);
        int[] prompt = [1, 40, 41, 42, 100, 200, 7];

        List<int> expected;
        using (var cpp = new LlamaCpp(path)) expected = cpp.Greedy(prompt, 32);

        using var model = LlamaModel.FromGguf(GgufFile.Open(path));
        var state = model.NewState(256);
        using var ctx = new KernelContext(2);
        var ours = new List<int>();
        model.Forward(prompt, state, ctx);
        for (int n = 0; n < 32; n++)
        {
            int next = LlamaCpp.ArgMax(state.Logits.AsSpan(0, c.VocabSize));
            ours.Add(next);
            model.Forward([next], state, ctx);
        }
        Assert.Equal(expected, ours);
        Assert.True(expected.Distinct().Count() > 3, "degenerate test: greedy output barely varies");
    }

    private static int[] Top(ReadOnlySpan<float> v, int k)
    {
        var idx = new int[v.Length];
        for (int i = 0; i < idx.Length; i++) idx[i] = i;
        var copy = v.ToArray();
        Array.Sort(copy.Select(x => -x).ToArray(), idx);
        return idx[..k];
    }
}
