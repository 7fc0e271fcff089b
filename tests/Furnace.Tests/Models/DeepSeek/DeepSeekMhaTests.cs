// DeepSeekModel with plain multi-head attention (DeepSeek-MoE-16B's llama.cpp arch "deepseek", HF DeepseekForCausalLM,
// deepseek-vl2-tiny's DeepseekV2 use_mla false) without llama.cpp: cached decoding against the whole forward, the same
// random model as a GGUF (rows permuted, adjacent-pair rope) and as HF directories (rotate_half rope), the converter,
// and the routings llama.cpp's "deepseek" cannot express. (llama.cpp parity: Furnace.Oracle.Tests/DeepSeekMhaOracleTests;
// the HF reference: DeepSeekHfReferenceTests.)
using Furnace.Formats.Gguf;
using Furnace.Models;
using Furnace.Models.DeepSeek;
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeek;

public sealed class DeepSeekMhaTests
{
    private static readonly int[] Tokens = Enumerable.Range(0, 20).Select(i => 3 + i * 53 % 317).ToArray();

    private static float[] Logits(IDecoder m, KernelContext ctx)
    {
        var s = m.NewDecoderState(32, maxBatch: Tokens.Length);
        m.Forward(Tokens, s, ctx, allLogits: true);
        return s.Logits.AsSpan(0, Tokens.Length * m.VocabSize).ToArray();
    }

    private static void AssertClose(float[] a, float[] b, float tol)
    {
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= tol, $"logit {i}: {a[i]} vs {b[i]}");
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.Q8_0)]
    public void Forward_MhaCachedDecodingAndChunkedPrefill_EqualWholeForwardWithin1e5(DType type)
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset("test-mha"), type, seed: 2);
        using var m = DeepSeekModel.FromGguf(GgufFile.Open(path));
        Assert.Equal("deepseek", m.Architecture);
        using var ctx = new KernelContext(2);
        int v = m.VocabSize;
        int[] tokens = Enumerable.Range(0, 24).Select(i => 3 + i * 37 % (v - 3)).ToArray();
        var whole = m.NewState(64, maxBatch: 24);
        m.Forward(tokens, whole, ctx, allLogits: true);
        var step = m.NewState(64, maxBatch: 3);
        m.Forward(tokens.AsSpan(0, 7), step, ctx);
        for (int i = 6; i < tokens.Length; i++)
        {
            if (i > 6) m.Forward(tokens.AsSpan(i, 1), step, ctx);
            for (int k = 0; k < v; k++)
                Assert.True(Math.Abs(step.Logits[k] - whole.Logits[i * v + k]) <= 1e-5f, $"position {i}, token {k}: {step.Logits[k]} vs {whole.Logits[i * v + k]}");
        }
        // keys and values of 2 kv heads of 16 per layer and token
        Assert.Equal(4L * 3 * 2 * 2 * 16 * 64, step.KvCacheBytes);
    }

    [Fact]
    public void Forward_MhaDecodeStep_AllocatesNothing()
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset("test-mha"), DType.Q8_0, seed: 4);
        using var m = DeepSeekModel.FromGguf(GgufFile.Open(path));
        using var ctx = new KernelContext(2);
        var s = m.NewState(64);
        int[] one = [5];
        for (int i = 0; i < 4; i++) m.Forward(one, s, ctx);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 8; i++) m.Forward(one, s, ctx);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void FromGguf_MhaFile_ReadsThePresetBack()
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        var c = DeepSeekConfig.Preset("test-mha");
        RandomDeepSeek.WriteGguf(path, c, DType.F32, seed: 1);
        using var f = GgufFile.Open(path);
        Assert.Equal(c, DeepSeekConfig.FromGguf(f));
    }

    [Theory]
    [InlineData(false)] // DeepseekForCausalLM (DeepSeek-MoE-16B)
    [InlineData(true)]  // DeepseekV2ForCausalLM with use_mla false (deepseek-vl2-tiny's language model)
    public void FromHuggingFace_MhaSameRandomModel_MatchesTheGgufWithin1e5(bool plainAsV2)
    {
        using var dir = new TempDir();
        var c = DeepSeekConfig.Preset("test-mha");
        string gguf = dir.File("m.gguf"), hf = dir.File("hf");
        RandomDeepSeek.WriteGguf(gguf, c, DType.F32, seed: 8);
        RandomDeepSeek.WriteHuggingFace(hf, c, seed: 8, plainAsV2: plainAsV2);
        using var ctx = new KernelContext(2);
        float[] a, b;
        using (var m = ModelLoader.OpenDecoder(gguf)) a = Logits(m, ctx);
        using (var m = ModelLoader.OpenDecoder(hf))
        {
            var d = Assert.IsType<DeepSeekModel>(m);
            Assert.Equal(c with { RopeNeox = true }, d.Config);
            b = Logits(m, ctx);
        }
        AssertClose(a, b, 1e-5f);
    }

    [Fact]
    public void Convert_MhaHfDirectory_GivesTheRandomGgufLogitsWithin1e5()
    {
        // HF DeepseekForCausalLM -> GGUF "deepseek" (q/k rows permuted as llama.cpp's DeepseekModel converter does)
        using var dir = new TempDir();
        var c = DeepSeekConfig.Preset("test-mha");
        string hf = dir.File("hf"), converted = dir.File("c.gguf"), random = dir.File("r.gguf");
        RandomDeepSeek.WriteHuggingFace(hf, c, seed: 9);
        RandomDeepSeek.WriteGguf(random, c, DType.F32, seed: 9);
        DeepSeekHfToGguf.Convert(hf, converted, DType.F32, RandomLlama.SyntheticVocab(c.VocabSize));
        using var ctx = new KernelContext(2);
        float[] a, b;
        using (var f = GgufFile.Open(converted))
        {
            Assert.Equal("deepseek", f.Architecture);
            Assert.Equal(c, DeepSeekConfig.FromGguf(f));
        }
        using (var m = ModelLoader.OpenDecoder(converted)) a = Logits(m, ctx);
        using (var m = ModelLoader.OpenDecoder(random)) b = Logits(m, ctx);
        AssertClose(a, b, 1e-5f);
    }

    [Fact]
    public void Convert_MhaNormTopkProb_FailsNamingWhatLlamaCppCannotExpress()
    {
        using var dir = new TempDir();
        var c = DeepSeekConfig.Preset("test-mha") with { ExpertWeightsNorm = true };
        string hf = dir.File("hf");
        RandomDeepSeek.WriteHuggingFace(hf, c, seed: 9);
        var e = Assert.Throws<FurnaceException>(() => DeepSeekHfToGguf.Convert(hf, dir.File("c.gguf"), DType.F32, RandomLlama.SyntheticVocab(c.VocabSize)));
        Assert.Contains("norm_topk_prob", e.Message);
        Assert.False(File.Exists(dir.File("c.gguf")));
    }

    [Fact]
    public void FromGguf_MhaMissingExpertCount_OneLineErrorNamingTheKey()
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset("test-mha"), DType.F32, seed: 1, amend: w => w.Remove("deepseek.attention.head_count"));
        var e = Assert.Throws<FurnaceFormatException>(() => ModelLoader.OpenDecoder(path));
        Assert.Contains("missing metadata 'deepseek.attention.head_count'", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void FromHf_UseMlaFalseWithRopeScaling_FailsNamingRopeScaling()
    {
        var raw = Furnace.Formats.HfConfig.HfConfigFile.Parse("""
            {"architectures": ["DeepseekV2ForCausalLM"], "use_mla": false, "hidden_size": 64, "num_hidden_layers": 2,
             "num_attention_heads": 4, "vocab_size": 320, "max_position_embeddings": 512, "kv_lora_rank": null,
             "intermediate_size": 160, "n_routed_experts": 8, "num_experts_per_tok": 2, "moe_intermediate_size": 32,
             "rope_scaling": {"type": "linear", "factor": 2.0}}
            """u8, "config.json");
        var e = Assert.Throws<FurnaceException>(() => DeepSeekConfig.FromHf(raw, "config.json"));
        Assert.Contains("rope_scaling", e.Message);
    }

    [Fact]
    public void Config_DeepSeekMoe16bPreset_ValidatesWith16_4BParametersAndAPerHeadCache()
    {
        DeepSeekConfig c = DeepSeekConfig.Preset("deepseek-moe-16b").Validated("preset");
        Assert.Equal("deepseek", c.Architecture);
        Assert.InRange(c.ParameterCount, 16.3e9, 16.5e9); // the model card's 16.4B
        Assert.Equal(4L * 28 * 2 * 16 * 128, c.KvBytesPerToken.Mla); // keys and values of 16 heads of 128 per layer
    }
}
