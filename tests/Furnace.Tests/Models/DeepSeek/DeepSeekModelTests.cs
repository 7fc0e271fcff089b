// DeepSeekModel without llama.cpp: cached decoding against the whole-sequence forward, and the one-line errors of
// malformed deepseek2 files. (Parity with llama.cpp is in Furnace.Oracle.Tests/DeepSeekOracleTests.)
using Furnace.Formats.Gguf;
using Furnace.Models;
using Furnace.Models.DeepSeek;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeek;

public sealed class DeepSeekModelTests
{
    [Theory]
    [InlineData("test-v2-lite", DType.F32)]
    [InlineData("test-v3", DType.F32)]
    [InlineData("test-v3", DType.Q8_0)]
    public void Forward_CachedDecodingAndChunkedPrefill_EqualWholeForwardWithin1e5(string preset, DType type)
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset(preset), type, seed: 2, selectionBias: preset == "test-v3");
        using var m = DeepSeekModel.FromGguf(GgufFile.Open(path));
        using var ctx = new KernelContext(2);
        int v = m.VocabSize;
        int[] tokens = Enumerable.Range(0, 24).Select(i => 3 + i * 37 % (v - 3)).ToArray();

        var whole = m.NewState(64, maxBatch: 24);
        m.Forward(tokens, whole, ctx, allLogits: true);

        // 7 tokens prefilled in chunks of 3 (3 + 3 + 1), then one token per step
        var step = m.NewState(64, maxBatch: 3);
        m.Forward(tokens.AsSpan(0, 7), step, ctx);
        for (int i = 6; i < tokens.Length; i++)
        {
            if (i > 6) m.Forward(tokens.AsSpan(i, 1), step, ctx);
            for (int k = 0; k < v; k++)
                Assert.True(Math.Abs(step.Logits[k] - whole.Logits[i * v + k]) <= 1e-5f, $"position {i}, token {k}: {step.Logits[k]} vs {whole.Logits[i * v + k]}");
        }
        Assert.Equal(tokens.Length, step.Position);
        Assert.Equal(m.Config.KvBytesPerToken.Mla * 64, step.KvCacheBytes);
    }

    [Theory]
    [InlineData("test-v2-lite", DType.F32)]
    [InlineData("test-v3", DType.Q8_0)]
    public void Forward_DecodeStep_AllocatesNothing(string preset, DType type)
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset(preset), type, seed: 4, selectionBias: true);
        using var m = DeepSeekModel.FromGguf(GgufFile.Open(path));
        using var ctx = new KernelContext(2);
        var s = m.NewState(64);
        int[] one = [5];
        for (int i = 0; i < 4; i++) m.Forward(one, s, ctx); // warm-up: JIT, scratch growth
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 8; i++) m.Forward(one, s, ctx);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void FromGguf_MissingKvLoraRank_OneLineErrorNamingTheKey()
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset("test-v2-lite"), DType.F32, seed: 1, amend: w => w.Remove("deepseek2.attention.kv_lora_rank"));
        var e = Assert.Throws<FurnaceFormatException>(() => ModelLoader.OpenDecoder(path));
        Assert.Contains("missing metadata 'deepseek2.attention.kv_lora_rank'", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void FromGguf_KvLoraRankDisagreesWithTensors_NamesTheTensorAndBothShapes()
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset("test-v2-lite"), DType.F32, seed: 1, amend: w => w
            .Add("deepseek2.attention.kv_lora_rank", 16u).Add("deepseek2.attention.key_length", 32u).Add("deepseek2.attention.value_length", 16u));
        var e = Assert.Throws<FurnaceFormatException>(() => ModelLoader.OpenDecoder(path));
        Assert.Contains("tensor 'blk.0.attn_kv_a_mqa.weight' has shape [48, 64], expected [32, 64]", e.Message);
    }

    [Theory]
    [InlineData("test-v2-lite")]
    [InlineData("test-v3")]
    public void FromHuggingFace_SameRandomModel_MatchesTheGgufWithin1e5(string preset)
    {
        // the same seeded values as a deepseek2 GGUF (checked against llama.cpp) and as a HF directory (kv_b_proj, experts.N)
        using var dir = new TempDir();
        var c = DeepSeekConfig.Preset(preset);
        bool bias = preset == "test-v3";
        string gguf = dir.File("m.gguf"), hf = dir.File("hf");
        RandomDeepSeek.WriteGguf(gguf, c, DType.F32, seed: 8, selectionBias: bias);
        RandomDeepSeek.WriteHuggingFace(hf, c, seed: 8, selectionBias: bias);
        int[] tokens = Enumerable.Range(0, 20).Select(i => 3 + i * 53 % 317).ToArray();
        using var ctx = new KernelContext(2);
        float[] Logits(IDecoder m)
        {
            var s = m.NewDecoderState(32, maxBatch: 20);
            m.Forward(tokens, s, ctx, allLogits: true);
            return s.Logits.AsSpan(0, 20 * m.VocabSize).ToArray();
        }
        float[] a, b;
        using (var m = ModelLoader.OpenDecoder(gguf)) a = Logits(m);
        using (var m = ModelLoader.OpenDecoder(hf))
        {
            Assert.IsType<DeepSeekModel>(m);
            Assert.Equal(c, ((DeepSeekModel)m).Config);
            b = Logits(m);
        }
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5f, $"logit {i}: {a[i]} vs {b[i]}");
    }

    [Fact]
    public void Config_Presets_KvCacheIsAFractionOfMha()
    {
        var (mla, mha) = DeepSeekConfig.Preset("deepseek-v2-lite").KvBytesPerToken;
        Assert.Equal(4L * 27 * (512 + 64), mla);
        Assert.Equal(4L * 27 * 16 * (192 + 128), mha);
        Assert.Equal(ExpertGating.Sigmoid, DeepSeekConfig.Preset("deepseek-v3").Gating);
    }
}
