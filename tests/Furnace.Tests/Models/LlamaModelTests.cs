using Furnace.Formats.Gguf;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models;

public sealed class LlamaModelTests
{
    private static LlamaModel Tiny(TempDir dir, DType type = DType.F32, string preset = "test-tiny")
    {
        string path = dir.File("m.gguf");
        RandomLlama.WriteGguf(path, LlamaConfig.Preset(preset), type, seed: 3);
        return ModelLoader.OpenLlama(path);
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.Q4_0)]
    public void Forward_CachedDecoding_EqualsUncachedForward(DType type)
    {
        using var dir = new TempDir();
        using var m = Tiny(dir, type);
        using var ctx = new KernelContext(2);
        int v = m.Config.VocabSize;
        int[] tokens = Enumerable.Range(0, 20).Select(i => 3 + i * 13 % (v - 3)).ToArray();

        var whole = m.NewState(64, maxBatch: 32);
        m.Forward(tokens, whole, ctx, allLogits: true);

        var step = m.NewState(64, maxBatch: 1);
        for (int i = 0; i < tokens.Length; i++)
        {
            m.Forward(tokens.AsSpan(i, 1), step, ctx);
            for (int k = 0; k < v; k++)
                Assert.True(Math.Abs(step.Logits[k] - whole.Logits[i * v + k]) <= 1e-4f, $"position {i}, token {k}: {step.Logits[k]} vs {whole.Logits[i * v + k]}");
        }
    }

    [Theory]
    [InlineData(DType.Q8_0)]
    [InlineData(DType.Q4_0)]
    public void OpenLlama_QuantizedGguf_RepacksMatmulWeightsButNotTheEmbedding(DType type)
    {
        using var dir = new TempDir();
        using var m = Tiny(dir, type);
        LlamaLayerWeights l0 = m.Weights.Layers[0];
        foreach (WeightMatrix w in new[] { l0.Wq, l0.Wk, l0.Wv, l0.Wo, l0.WGate, l0.WUp, l0.WDown, m.Weights.Output })
            Assert.Equal(WeightLayout.Interleaved8, w.Layout);
        Assert.Equal(WeightLayout.RowMajor, m.Weights.TokenEmbedding.Layout);
        Assert.True(m.PackedBytes > 0);

        // the packed output head holds the same rows as the checkpoint's (here: the tied embedding, or output.weight)
        using var f = GgufFile.Open(dir.File("m.gguf"));
        var raw = LlamaWeights.Load(new Furnace.Formats.Weights.WeightLoader(f), m.Config, CheckpointNaming.Gguf);
        var a = new float[m.Config.Dim];
        var b = new float[m.Config.Dim];
        for (int r = 0; r < m.Config.VocabSize; r += 7)
        {
            Dequantize.Row(a, raw.Output, r);
            Dequantize.Row(b, m.Weights.Output, r);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void ForwardEmbeddings_OfTokenEmbeddings_EqualsForwardOfTokens()
    {
        using var dir = new TempDir();
        using var m = Tiny(dir, DType.Q8_0);
        using var ctx = new KernelContext(2);
        int v = m.Config.VocabSize, dim = m.Config.Dim;
        int[] tokens = [1, 17, 200, 45, 9, 300, 12];
        var a = m.NewState(32, maxBatch: 4);
        m.Forward(tokens, a, ctx);
        var emb = new float[tokens.Length * dim];
        m.Embed(tokens, emb);
        var b = m.NewState(32, maxBatch: 4);
        m.ForwardEmbeddings(emb, b, ctx);
        Assert.Equal(a.Position, b.Position);
        Assert.Equal(a.Logits.AsSpan(0, v).ToArray(), b.Logits.AsSpan(0, v).ToArray());
    }

    [Fact]
    public void Forward_ChunkedPrefill_EqualsSingleChunk()
    {
        using var dir = new TempDir();
        using var m = Tiny(dir);
        using var ctx = new KernelContext(1);
        int v = m.Config.VocabSize;
        int[] tokens = Enumerable.Range(0, 21).Select(i => 3 + i * 7 % (v - 3)).ToArray();
        var a = m.NewState(64, maxBatch: 32);
        m.Forward(tokens, a, ctx);
        var b = m.NewState(64, maxBatch: 5);
        m.Forward(tokens, b, ctx);
        Assert.Equal(21, b.Position);
        for (int k = 0; k < v; k++) Assert.Equal(a.Logits[k], b.Logits[k], 1e-4f);
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.Q8_0)]
    [InlineData(DType.Q4_0)]
    public void Forward_DecodeStep_AllocatesNothing(DType type)
    {
        using var dir = new TempDir();
        using var m = Tiny(dir, type);
        using var ctx = new KernelContext(2);
        var s = m.NewState(64);
        int[] one = [5];
        for (int i = 0; i < 4; i++) m.Forward(one, s, ctx); // warm-up: JIT, scratch growth
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 8; i++) m.Forward(one, s, ctx);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Forward_PastContext_ThrowsClearError()
    {
        using var dir = new TempDir();
        using var m = Tiny(dir);
        using var ctx = new KernelContext(1);
        var s = m.NewState(8);
        var ex = Assert.Throws<FurnaceException>(() => m.Forward(new int[9], s, ctx));
        Assert.Contains("exceed the context length 8", ex.Message);
    }

    [Fact]
    public void OpenLlama_MissingTensor_NamesTheFullKey()
    {
        using var dir = new TempDir();
        var c = LlamaConfig.Preset("test-tiny");
        var w = new GgufWriter();
        c.WriteGguf(w, "broken");
        foreach (var t in LlamaTensorNames.All(c).Where(t => t.Gguf != "blk.1.ffn_up.weight"))
            w.AddTensor(t.Gguf, DType.F32, t.Shape.Reverse().ToArray(), RandomLlama.Tensor(c, t.Hf, 1));
        w.Write(dir.File("b.gguf"));
        var ex = Assert.Throws<FurnaceFormatException>(() => ModelLoader.OpenLlama(dir.File("b.gguf")));
        Assert.Equal($"{dir.File("b.gguf")}: missing tensor 'blk.1.ffn_up.weight'", ex.Message);
    }

    [Fact]
    public void OpenLlama_WrongShape_NamesKeyAndBothShapes()
    {
        using var dir = new TempDir();
        var c = LlamaConfig.Preset("test-tiny");
        var w = new GgufWriter();
        c.WriteGguf(w, "broken");
        foreach (var t in LlamaTensorNames.All(c))
        {
            long[] shape = t.Gguf == "blk.0.attn_k.weight" ? [64, 16] : t.Shape.Reverse().ToArray();
            w.AddTensor(t.Gguf, DType.F32, shape, new float[shape.Aggregate(1L, (a, b) => a * b)]);
        }
        w.Write(dir.File("b.gguf"));
        var ex = Assert.Throws<FurnaceFormatException>(() => ModelLoader.OpenLlama(dir.File("b.gguf")));
        Assert.Contains("tensor 'blk.0.attn_k.weight' has shape [16, 64], expected [32, 64]", ex.Message);
    }

    [Fact]
    public void OpenLlama_UnknownArchitecture_SaysWhichAreSupported()
    {
        using var dir = new TempDir();
        new GgufWriter().Add("general.architecture", "mamba").Write(dir.File("x.gguf"));
        var ex = Assert.Throws<FurnaceFormatException>(() => ModelLoader.OpenLlama(dir.File("x.gguf")));
        Assert.Contains("architecture 'mamba' is not supported (llama, qwen2)", ex.Message);
    }

    [Fact]
    public void PermuteRows_MatchesLlamaCppConverterFormula()
    {
        // 2 heads of dim 4, 1 column: HF rows [h0: a0 a1 b0 b1 | h1: ...] -> llama.cpp [a0 b0 a1 b1 | ...]
        float[] w = [0, 1, 2, 3, 4, 5, 6, 7];
        Assert.Equal(new float[] { 0, 2, 1, 3, 4, 6, 5, 7 }, LlamaTensorNames.PermuteRows(w, 8, 2));
    }
}
