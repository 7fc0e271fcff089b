// llama.cpp's perplexity method (TextPerplexity) on a tiny random GGUF: chunking and counts, the refusal of short
// texts, batching invariance, and the KL divergence against a direct computation from both models' logits.
// (Agreement with llama.cpp itself is in Furnace.Oracle.Tests/PerplexityOracleTests.)
using Furnace.Evaluation.Perplexity;
using Furnace.Formats.Gguf;
using Furnace.Formats.Tokenizers;
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Evaluation.Perplexity;

public sealed class TextPerplexityTests
{
    private static (int[] Tokens, int? Bos) Tokens(string model, string text)
    {
        var tok = Tokenizer.Open(model);
        return (TextPerplexity.Tokenize(tok, text), TextPerplexity.ChunkBos(tok));
    }

    [Fact]
    public void Run_ThreeChunks_ScoresSecondHalfOfEachAndRunningPplEndsAtFinal()
    {
        using var dir = new TempDir();
        string path = PerplexityText.WriteModel(dir, DType.F32);
        var (tokens, bos) = Tokens(path, PerplexityText.Text(200));
        Assert.Equal(1, tokens[0]); // BOS, as common_tokenize(add_special = true)
        using var model = LlamaModel.FromGguf(GgufFile.Open(path));
        using var ctx = new KernelContext(2);
        var res = TextPerplexity.Run(model, tokens, bos, new TextPerplexityOptions { Context = 32, Chunks = 3 }, ctx);
        Assert.Equal(3, res.Chunks);
        Assert.Equal(3 * (32 - 1 - 16), res.Tokens);
        Assert.Equal(3, res.RunningPpl.Count);
        Assert.Equal(res.Ppl, res.RunningPpl[^1], 12);
        Assert.Equal(Math.Exp(res.NllMean), res.Ppl, 12);
        Assert.True(res.PplUncertainty > 0 && res.Ppl > 1, $"ppl {res.Ppl} ± {res.PplUncertainty}");
        Assert.StartsWith("Final estimate: PPL = ", res.FinalEstimate());
        Assert.Matches(@"^\[1\]\d+\.\d{4},\[2\]\d+\.\d{4},\[3\]\d+\.\d{4},$", res.RunningLine());
    }

    [Fact]
    public void Run_BatchSmallerThanChunk_SamePplWithin1e5Relative()
    {
        using var dir = new TempDir();
        string path = PerplexityText.WriteModel(dir, DType.F32);
        var (tokens, bos) = Tokens(path, PerplexityText.Text(200));
        using var model = LlamaModel.FromGguf(GgufFile.Open(path));
        using var ctx = new KernelContext(2);
        var whole = TextPerplexity.Run(model, tokens, bos, new TextPerplexityOptions { Context = 48, Chunks = 2 }, ctx);
        var batched = TextPerplexity.Run(model, tokens, bos, new TextPerplexityOptions { Context = 48, Chunks = 2, Batch = 10 }, ctx);
        // the same positions through the KV cache in 5 pieces: float sums in another order, nothing more
        Assert.True(Math.Abs(batched.Ppl / whole.Ppl - 1) < 1e-5, $"{batched.Ppl} vs {whole.Ppl}");
    }

    [Fact]
    public void Run_TextShorterThanTwoChunks_ThrowsWithLlamaCppCounts()
    {
        using var dir = new TempDir();
        string path = PerplexityText.WriteModel(dir, DType.F32);
        var (tokens, bos) = Tokens(path, PerplexityText.Text(10));
        using var model = LlamaModel.FromGguf(GgufFile.Open(path));
        using var ctx = new KernelContext(1);
        var e = Assert.Throws<FurnaceException>(() => TextPerplexity.Run(model, tokens, bos, new TextPerplexityOptions { Context = 64 }, ctx));
        Assert.Equal($"you need at least 128 tokens to evaluate perplexity with a context of 64; the text tokenizes to only {tokens.Length} tokens", e.Message);
    }

    [Fact]
    public void Run_ContextBeyondModel_Throws()
    {
        using var dir = new TempDir();
        string path = PerplexityText.WriteModel(dir, DType.F32);
        var (tokens, bos) = Tokens(path, PerplexityText.Text(400));
        using var model = LlamaModel.FromGguf(GgufFile.Open(path));
        using var ctx = new KernelContext(1);
        var e = Assert.Throws<FurnaceException>(() => TextPerplexity.Run(model, tokens, bos, new TextPerplexityOptions { Context = 256 }, ctx));
        Assert.Contains("larger than the model's context length 128", e.Message);
    }

    [Fact]
    public void KlDivergence_ModelAgainstItself_ZeroAndSameTopOne()
    {
        using var dir = new TempDir();
        string path = PerplexityText.WriteModel(dir, DType.Q8_0);
        var (tokens, bos) = Tokens(path, PerplexityText.Text(200));
        using var model = LlamaModel.FromGguf(GgufFile.Open(path));
        using var same = LlamaModel.FromGguf(GgufFile.Open(path));
        using var ctx = new KernelContext(2);
        var res = TextPerplexity.Run(model, tokens, bos, new TextPerplexityOptions { Context = 32, Chunks = 3 }, ctx, baseModel: same);
        var kl = res.Kl!;
        Assert.Equal(0.0, kl.MeanKld);
        Assert.Equal(0.0, kl.MaxKld);
        Assert.Equal(1.0, kl.SameTopP);
        Assert.Equal(0.0, kl.LogPplRatio, 12);
        Assert.Equal(res.Ppl, kl.Ppl, 9);
        Assert.Equal(res.Tokens, kl.Count);
    }

    [Fact]
    public void KlDivergence_Q4_0AgainstF32_PositiveAndEqualsDirectComputationWithin1e6()
    {
        using var dir = new TempDir();
        string f32 = PerplexityText.WriteModel(dir, DType.F32, seed: 3), q4 = PerplexityText.WriteModel(dir, DType.Q4_0, seed: 3);
        var (tokens, bos) = Tokens(f32, PerplexityText.Text(200));
        using var baseModel = LlamaModel.FromGguf(GgufFile.Open(f32));
        using var model = LlamaModel.FromGguf(GgufFile.Open(q4));
        using var ctx = new KernelContext(2);
        const int nCtx = 32, chunks = 3;
        var res = TextPerplexity.Run(model, tokens, bos, new TextPerplexityOptions { Context = nCtx, Chunks = chunks }, ctx, baseModel);

        // direct: both models' full-chunk logits, softmax in double, Σ p_base (log p_base − log p_model)
        var klds = new List<double>();
        int same = 0, vocab = model.Config.VocabSize;
        for (int i = 0; i < chunks; i++)
        {
            int[] chunk = tokens[(i * nCtx)..((i + 1) * nCtx)];
            chunk[0] = bos!.Value;
            float[] p = AllLogits(baseModel, chunk, ctx), q = AllLogits(model, chunk, ctx);
            for (int pos = nCtx / 2; pos < nCtx - 1; pos++)
            {
                double[] lp = LogProbs(p.AsSpan(pos * vocab, vocab)), lq = LogProbs(q.AsSpan(pos * vocab, vocab));
                klds.Add(lp.Select((l, v) => Math.Exp(l) * (l - lq[v])).Sum());
                if (Array.IndexOf(lp, lp.Max()) == Array.IndexOf(lq, lq.Max())) same++;
            }
        }
        var kl = res.Kl!;
        Assert.Equal(klds.Count, kl.Count);
        Assert.True(kl.MeanKld > 1e-4, $"Q4_0 against F32: KL {kl.MeanKld}");
        Assert.True(Math.Abs(kl.MeanKld - klds.Average()) < 1e-6, $"KL {kl.MeanKld} vs direct {klds.Average()}");
        Assert.True(Math.Abs(kl.MaxKld - klds.Max()) < 1e-6, $"max KL {kl.MaxKld} vs direct {klds.Max()}");
        Assert.Equal((double)same / klds.Count, kl.SameTopP, 12);
    }

    private static float[] AllLogits(LlamaModel m, int[] chunk, KernelContext ctx)
    {
        var state = m.NewState(chunk.Length, chunk.Length);
        m.Forward(chunk, state, ctx, allLogits: true);
        return state.Logits.AsSpan(0, chunk.Length * m.Config.VocabSize).ToArray();
    }

    private static double[] LogProbs(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (float l in logits) max = Math.Max(max, l);
        double sum = 0;
        foreach (float l in logits) sum += Math.Exp(l - max);
        double lse = max + Math.Log(sum);
        var r = new double[logits.Length];
        for (int i = 0; i < r.Length; i++) r[i] = logits[i] - lse;
        return r;
    }

    [Fact]
    public void Run_DeepSeek2Decoder_EqualsNllFromWholeChunkForwardWithin1e5Relative()
    {
        // any IDecoder runs the method: a random deepseek2 (MLA + MoE) against -log softmax of its own whole-chunk logits
        using var dir = new TempDir();
        string path = dir.File("ds.gguf");
        var c = Furnace.Models.DeepSeek.DeepSeekConfig.Preset("test-v3");
        Furnace.Models.DeepSeek.RandomDeepSeek.WriteGguf(path, c, DType.F32, seed: 9, selectionBias: true);
        var rng = new Random(3);
        int[] tokens = Enumerable.Range(0, 64).Select(_ => rng.Next(3, c.VocabSize)).ToArray();
        using var model = Furnace.Models.ModelLoader.OpenDecoder(path);
        using var ctx = new KernelContext(2);
        var res = TextPerplexity.Run(model, tokens, bos: 1, new TextPerplexityOptions { Context = 32, Chunks = 2, Batch = 8 }, ctx);

        double nll = 0;
        int count = 0;
        var state = model.NewDecoderState(32, maxBatch: 32);
        for (int ch = 0; ch < 2; ch++)
        {
            int[] chunk = tokens.AsSpan(ch * 32, 32).ToArray();
            chunk[0] = 1;
            state.Reset();
            model.Forward(chunk, state, ctx, allLogits: true);
            for (int p = 16; p <= 30; p++, count++)
            {
                ReadOnlySpan<float> row = state.Logits.AsSpan(p * c.VocabSize, c.VocabSize);
                double max = double.NegativeInfinity, sum = 0;
                foreach (float v in row) max = Math.Max(max, v);
                foreach (float v in row) sum += Math.Exp(v - max);
                nll += max + Math.Log(sum) - row[tokens[ch * 32 + p + 1]];
            }
        }
        Assert.Equal(count, res.Tokens);
        // batch 8 vs one 32-token forward: the same sums in a different blocking, so only float rounding differs
        Assert.True(Math.Abs(res.NllMean - nll / count) <= 1e-5 * (nll / count), $"mean NLL {res.NllMean} vs {nll / count}");
    }
}
