// Perplexity of a decoder (any IDecoder: Llama family, DeepSeek-V2/V3) over a text, exactly llama.cpp's method (tools/perplexity/perplexity.cpp, perplexity();
// ggml-org/llama.cpp @ 050fc7f32de16858ac667d775b43a51ed8976e6f):
//   tokens = tokenize(text, add_special = true)          BOS in front when the vocabulary adds one
//   refuse when tokens < 2·n_ctx
//   n_chunk = min(--chunks, tokens / n_ctx)               non-overlapping chunks of n_ctx tokens, KV cache cleared
//   chunk i = tokens[i·n_ctx, (i+1)·n_ctx) with its first token replaced by BOS (when the vocabulary adds BOS)
//   scored: logits at positions first = n_ctx/2 … n_ctx − 2 predict the next token: n_ctx − 1 − first per chunk
//   nll += −log p, nll2 += (log p)², in double;  PPL = exp(nll/count),  σ = PPL·sqrt((nll2/count − (nll/count)²)/(count − 1))
// With a base model (llama.cpp's --kl-divergence mode, kl_divergence()) the base runs live over the same chunks
// and each scored position also feeds KlDivergence.
using Furnace.Formats.Tokenizers;
using Furnace.Models;
using Furnace.Tensors;

namespace Furnace.Evaluation.Perplexity;

public static class TextPerplexity
{
    /// <summary>llama.cpp's common_tokenize(ctx, text, add_special = true): special tokens in the text stay text.</summary>
    public static int[] Tokenize(Tokenizer tokenizer, string text) => tokenizer.Encode(text, addSpecial: true, parseSpecial: false);

    /// <summary>The BOS id the method puts at the start of every chunk, or null when the vocabulary adds none.</summary>
    public static int? ChunkBos(Tokenizer tokenizer) => tokenizer.AddBos ? tokenizer.BosId : null;

    /// <summary>llama.cpp's refusal: the text must hold at least two chunks.</summary>
    public static void CheckLength(int tokens, int context)
    {
        if (tokens < 2 * context)
            throw new FurnaceException($"you need at least {2 * context} tokens to evaluate perplexity with a context of {context}; the text tokenizes to only {tokens} tokens");
    }

    /// <param name="tokens">The whole text's tokens (Tokenize).</param>
    /// <param name="bos">ChunkBos of the vocabulary.</param>
    /// <param name="baseModel">The reference model for KL(base ‖ model), or null.</param>
    /// <param name="progress">Called after each chunk with (chunks done, chunks in all, running PPL).</param>
    public static PerplexityResult Run(IDecoder model, int[] tokens, int? bos, TextPerplexityOptions options, KernelContext ctx,
        IDecoder? baseModel = null, Action<int, int, double>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokens);
        options = options.Validated();
        int nCtx = options.Context, vocab = model.VocabSize;
        if (nCtx > model.MaxPositions)
            throw new FurnaceException($"--ctx {nCtx} is larger than the model's context length {model.MaxPositions}");
        if (baseModel != null)
        {
            if (baseModel.VocabSize != vocab)
                throw new FurnaceException($"the base model's vocabulary has {baseModel.VocabSize} tokens and the model's {vocab}: KL divergence needs the same vocabulary");
            if (nCtx > baseModel.MaxPositions)
                throw new FurnaceException($"--ctx {nCtx} is larger than the base model's context length {baseModel.MaxPositions}");
        }
        CheckLength(tokens.Length, nCtx);
        int nChunk = Math.Min(options.Chunks ?? int.MaxValue, tokens.Length / nCtx);
        int first = nCtx / 2, scored = nCtx - 1 - first, batch = options.EffectiveBatch;

        var state = model.NewDecoderState(nCtx, batch);
        var baseState = baseModel?.NewDecoderState(nCtx, batch);
        var logits = new float[(long)scored * vocab];         // (scored, vocab): rows for positions first … n_ctx − 2
        var baseLogits = baseModel == null ? null : new float[(long)scored * vocab];
        var chunk = new int[nCtx];
        var kl = baseModel == null ? null : new KlDivergence();
        var running = new List<double>(nChunk);
        double nll = 0, nll2 = 0;
        int count = 0;
        for (int i = 0; i < nChunk; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            Array.Copy(tokens, i * nCtx, chunk, 0, nCtx);
            if (bos is int b) chunk[0] = b;
            ScoredLogits(model, state, chunk, first, batch, logits, ctx);
            if (baseModel != null) ScoredLogits(baseModel, baseState!, chunk, first, batch, baseLogits!, ctx);
            for (int k = 0; k < scored; k++)
            {
                // the token after position first + k, from the original text (only position 0 is replaced by BOS)
                int next = tokens[i * nCtx + first + k + 1];
                ReadOnlySpan<float> row = logits.AsSpan(k * vocab, vocab);
                double v = LogSoftmax.Nll(row, next);
                nll += v;
                nll2 += v * v;
                kl?.Add(baseLogits.AsSpan(k * vocab, vocab), row, next);
            }
            count += scored;
            running.Add(Math.Exp(nll / count));
            progress?.Invoke(i + 1, nChunk, running[^1]);
        }
        double mean = nll / count, variance = nll2 / count - mean * mean, ppl = Math.Exp(mean);
        return new PerplexityResult
        {
            Ppl = ppl,
            PplUncertainty = variance > 0 ? Math.Sqrt(variance / (count - 1)) * ppl : double.NaN,
            NllMean = mean,
            Tokens = count,
            TextTokens = tokens.Length,
            Chunks = nChunk,
            Context = nCtx,
            RunningPpl = running,
            Kl = kl?.Result(),
        };
    }

    // One chunk from an empty cache, batch tokens per forward; copies the logits of positions first … n_ctx − 2
    // into dst (n_ctx − 1 − first, vocab).
    private static void ScoredLogits(IDecoder model, IDecoderState state, int[] chunk, int first, int batch, float[] dst, KernelContext ctx)
    {
        int nCtx = chunk.Length, vocab = model.VocabSize, last = nCtx - 2;
        state.Reset();
        for (int start = 0; start < nCtx; start += batch)
        {
            int n = Math.Min(batch, nCtx - start);
            bool wanted = start + n - 1 >= first && start <= last;
            model.Forward(chunk.AsSpan(start, n), state, ctx, allLogits: wanted);
            if (!wanted) continue;
            for (int p = Math.Max(start, first); p <= Math.Min(start + n - 1, last); p++)
                state.Logits.AsSpan((p - start) * vocab, vocab).CopyTo(dst.AsSpan((p - first) * vocab, vocab));
        }
    }
}
