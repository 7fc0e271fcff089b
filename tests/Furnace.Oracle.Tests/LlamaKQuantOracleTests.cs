// GGUF files made by llama.cpp's own quantizer (llama_model_quantize through LLamaSharp's LLamaQuantizer) from a tiny
// random F32 llama: Furnace loads them and matches llama.cpp's logits at every position (same argmax unless llama.cpp's
// top two lie within 0.005, cosine >= 0.999).
// ffn 1408 is not a multiple of 256, so llama.cpp falls back for ffn_down (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0,
// Q2_K/Q3_K -> Q4_0, IQ4_XS -> IQ4_NL): one file runs several weight types, mixed as real K-quant files are.
using Furnace;
using Furnace.Formats.Gguf;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Oracle.Tests.Support;
using Furnace.Tensors;
using LLama;
using LLama.Native;

namespace Furnace.Oracle.Tests;

public sealed class LlamaKQuantOracleTests
{
    private static LlamaConfig Config(string arch) => new LlamaConfig
    {
        Architecture = arch,
        Dim = 256,
        Layers = 2,
        Heads = 4,
        KvHeads = 2,
        HeadDim = 64,
        FfnDim = 1408,
        VocabSize = 320,
        MaxPositions = 256,
        RmsEps = 1e-5f,
        RopeTheta = arch == "qwen2" ? 1000000f : 10000f,
        AttentionBias = arch == "qwen2",
    }.Validated("test");

    // a random F32 model quantized by llama.cpp to ftype; returns the quantized file's path
    private static string Quantized(TempDir dir, string arch, LLamaFtype ftype, int seed)
    {
        string src = dir.File("f32.gguf"), dst = dir.File($"{ftype}.gguf");
        RandomLlama.WriteGguf(src, Config(arch), DType.F32, seed);
        NativeApi.llama_empty_call(); // loads the native library through LLamaSharp's resolver (the quantize params P/Invoke does not)
        Assert.True(LLamaQuantizer.Quantize(src, dst, ftype, nthread: 2, allowRequantize: true, quantizeOutputTensor: true), $"llama.cpp could not quantize to {ftype}");
        return dst;
    }

    public static TheoryData<LLamaFtype, string, DType> Cases => new()
    {
        { LLamaFtype.MOSTLY_Q2_K, "llama", DType.Q2_K },
        { LLamaFtype.MOSTLY_Q3_K_M, "llama", DType.Q3_K },
        { LLamaFtype.MOSTLY_Q4_K_S, "llama", DType.Q4_K },
        { LLamaFtype.MOSTLY_Q4_K_M, "llama", DType.Q4_K },
        { LLamaFtype.MOSTLY_Q5_K_M, "llama", DType.Q5_K },
        { LLamaFtype.MOSTLY_Q6_K, "llama", DType.Q6_K },
        { LLamaFtype.MOSTLY_IQ4_NL, "llama", DType.IQ4_NL },
        { LLamaFtype.MOSTLY_IQ4_XS, "llama", DType.IQ4_XS },
        { LLamaFtype.MOSTLY_Q4_1, "llama", DType.Q4_1 },
        { LLamaFtype.MOSTLY_Q5_0, "llama", DType.Q5_0 },
        { LLamaFtype.MOSTLY_Q5_1, "llama", DType.Q5_1 },
        { LLamaFtype.MOSTLY_Q4_K_M, "qwen2", DType.Q4_K },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Forward_LlamaCppQuantizedFile_SameArgmaxAndCosineAtEveryPosition(LLamaFtype ftype, string arch, DType main)
    {
        using var dir = new TempDir();
        string path = Quantized(dir, arch, ftype, seed: 13);
        using (var f = GgufFile.Open(path)) Assert.Contains(main, f.Tensors.Select(t => t.Type)); // the ftype's own type runs
        int vocab = Config(arch).VocabSize;
        var rng = new Random(4);
        int[] tokens = Enumerable.Range(0, 48).Select(_ => rng.Next(3, vocab)).ToArray();

        float[][] expected;
        using (var cpp = new LlamaCpp(path)) expected = cpp.AllLogits(tokens);
        using var model = ModelLoader.OpenLlama(path);
        var state = model.NewState(256, maxBatch: 64);
        using var ctx = new KernelContext(2);
        model.Forward(tokens, state, ctx, allLogits: true);

        double worst = 1;
        for (int i = 0; i < tokens.Length; i++)
        {
            ReadOnlySpan<float> ours = state.Logits.AsSpan(i * vocab, vocab);
            double cos = LlamaCpp.Cosine(ours, expected[i]);
            int ea = LlamaCpp.ArgMax(expected[i]), oa = LlamaCpp.ArgMax(ours);
            // the same argmax, except on a near tie in llama.cpp's own logits (top two within 0.005, e.g. Q6_K position 45:
            // 1.2189 vs 1.2167), where one activation rounding flip may swap them
            Assert.True(ea == oa || expected[i][ea] - expected[i][oa] < 0.005f, $"{ftype} position {i}: argmax {oa} vs llama.cpp {ea} (cosine {cos:F6}; llama.cpp logits {expected[i][ea]} / {expected[i][oa]}, ours {ours[ea]} / {ours[oa]})");
            worst = Math.Min(worst, cos);
            Assert.True(cos >= 0.999, $"{ftype} position {i}: cosine {cos:F6} < 0.999");
        }
        Console.WriteLine($"{ftype} {arch}: worst cosine {worst:F6}");
    }

    [Theory]
    [InlineData(DType.Q4_K)]
    [InlineData(DType.Q6_K)]
    [InlineData(DType.IQ4_XS)]
    [InlineData(DType.Q5_1)]
    public void Forward_FurnaceQuantizedFile_SameArgmaxAndCosineAsLlamaCpp(DType type)
    {
        // the same check on a file quantized by Furnace's own writer (ffn_down: llama-quantize's fallback type)
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        var c = Config("llama");
        RandomLlama.WriteGguf(path, c, type, seed: 17);
        var rng = new Random(6);
        int[] tokens = Enumerable.Range(0, 32).Select(_ => rng.Next(3, c.VocabSize)).ToArray();

        float[][] expected;
        using (var cpp = new LlamaCpp(path)) expected = cpp.AllLogits(tokens);
        using var model = ModelLoader.OpenLlama(path);
        var state = model.NewState(256, maxBatch: 64);
        using var ctx = new KernelContext(2);
        model.Forward(tokens, state, ctx, allLogits: true);
        for (int i = 0; i < tokens.Length; i++)
        {
            ReadOnlySpan<float> ours = state.Logits.AsSpan(i * c.VocabSize, c.VocabSize);
            int ea = LlamaCpp.ArgMax(expected[i]), oa = LlamaCpp.ArgMax(ours);
            Assert.True(ea == oa || expected[i][ea] - expected[i][oa] < 0.005f, $"{type} position {i}: argmax {oa} vs llama.cpp {ea}");
            double cos = LlamaCpp.Cosine(ours, expected[i]);
            Assert.True(cos >= 0.999, $"{type} position {i}: cosine {cos:F6} < 0.999");
        }
    }

    [Fact]
    public void GreedyDecode_Q4_K_M_16TokensIdenticalToLlamaCpp()
    {
        using var dir = new TempDir();
        string path = Quantized(dir, "llama", LLamaFtype.MOSTLY_Q4_K_M, seed: 5);
        int[] prompt = [1, 40, 41, 42, 100, 200, 7];

        List<int> expected;
        using (var cpp = new LlamaCpp(path)) expected = cpp.Greedy(prompt, 16);

        using var model = ModelLoader.OpenLlama(path);
        int vocab = Config("llama").VocabSize;
        var state = model.NewState(256);
        using var ctx = new KernelContext(2);
        var ours = new List<int>();
        model.Forward(prompt, state, ctx);
        for (int n = 0; n < 16; n++)
        {
            int next = LlamaCpp.ArgMax(state.Logits.AsSpan(0, vocab));
            ours.Add(next);
            model.Forward([next], state, ctx);
        }
        Assert.Equal(expected, ours);
        Assert.True(expected.Distinct().Count() > 3, "degenerate test: greedy output barely varies");
    }

    [Fact]
    public void Open_Q4_K_M_FileHoldsKQuantsAndFallbacks()
    {
        using var dir = new TempDir();
        using var f = GgufFile.Open(Quantized(dir, "llama", LLamaFtype.MOSTLY_Q4_K_M, seed: 2));
        var types = f.Tensors.Select(t => t.Type).ToHashSet();
        Assert.Contains(DType.Q4_K, types);
        Assert.Contains(DType.Q6_K, types);
        Assert.Equal(DType.Q5_0, f.Tensors.Single(t => t.Name == "blk.0.ffn_down.weight").Type); // 1408 % 256 != 0
        Assert.Equal(DType.Q4_K, f.Tensors.Single(t => t.Name == "token_embd.weight").Type); // looked up by row dequantization
        Assert.Equal(DType.Q6_K, f.Tensors.Single(t => t.Name == "output.weight").Type);
    }

    [Fact]
    public void Open_KQuantRowNotMultipleOf256_OneLineErrorNamingTheTensor()
    {
        using var dir = new TempDir();
        string path = Quantized(dir, "llama", LLamaFtype.MOSTLY_Q4_K_M, seed: 2);
        // reshape blk.0.attn_q.weight (q4_K, [256, 256]) to [128, 512] in its tensor info: same bytes, rows of 128
        byte[] bytes = File.ReadAllBytes(path);
        byte[] name = "blk.0.attn_q.weight"u8.ToArray();
        int at = bytes.AsSpan().IndexOf(name) + name.Length;
        Assert.Equal(2u, BitConverter.ToUInt32(bytes, at));
        Assert.Equal(256UL, BitConverter.ToUInt64(bytes, at + 4));
        BitConverter.TryWriteBytes(bytes.AsSpan(at + 4), 128UL);
        BitConverter.TryWriteBytes(bytes.AsSpan(at + 12), 512UL);
        Assert.Equal((uint)DType.Q4_K, BitConverter.ToUInt32(bytes, at + 20));
        File.WriteAllBytes(dir.File("bad.gguf"), bytes);

        var ex = Assert.Throws<FurnaceFormatException>(() => GgufFile.Open(dir.File("bad.gguf")));
        Assert.Contains("'blk.0.attn_q.weight'", ex.Message);
        Assert.Contains("q4_K", ex.Message);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
