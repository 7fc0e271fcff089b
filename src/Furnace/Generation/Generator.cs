// The generation loop: prefill the prompt, then sample → stream text → decode one token, until an end-of-generation
// token, a stop string, max tokens or the end of the context (the per-token logic is GenerationSequence's, shared
// with the batched chat engine). Buffers (state, sampler, KV cache) are made once per call; the per-token loop
// allocates only the text it returns.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Furnace.Formats.Tokenizers;
using Furnace.Models;
using Furnace.Tensors;

namespace Furnace.Generation;

public sealed class Generator
{
    private readonly IDecoder _model;
    private readonly Tokenizer _tokenizer;
    private readonly KernelContext _ctx;
    private readonly int _contextLength;

    public Generator(IDecoder model, Tokenizer tokenizer, KernelContext ctx, int contextLength)
    {
        if (contextLength < 2) throw new FurnaceException($"context length {contextLength} is too small");
        _model = model;
        _tokenizer = tokenizer;
        _ctx = ctx;
        _contextLength = Math.Min(contextLength, model.MaxPositions);
    }

    public int ContextLength => _contextLength;

    /// <summary>The last completed call's result (counts, finish reason, timings); set when the stream ends.</summary>
    public GenerationResult? LastResult { get; private set; }

    public async IAsyncEnumerable<string> StreamAsync(IReadOnlyList<int> prompt, GenerationOptions options,
        [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        foreach (string piece in Stream(prompt, options, cancellation))
        {
            yield return piece;
            await Task.Yield();
        }
    }

    public GenerationResult Generate(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken cancellation = default)
    {
        var text = new System.Text.StringBuilder();
        foreach (string piece in Stream(prompt, options, cancellation)) text.Append(piece);
        return LastResult! with { Text = text.ToString() };
    }

    /// <summary>Text pieces as they become complete UTF-8 (and clear of stop strings).</summary>
    public IEnumerable<string> Stream(IReadOnlyList<int> prompt, GenerationOptions options, CancellationToken cancellation = default)
    {
        if (prompt.Count == 0) throw new FurnaceException("the prompt is empty");
        int[] ids = prompt is int[] arr ? arr : prompt.ToArray();
        return Run(ids.Length, ids, (state, ctx) => _model.Forward(ids, state, ctx), options, cancellation);
    }

    /// <summary>
    /// As Stream, from a prompt given as input embeddings (positions, dim): how a vision-language model starts, with
    /// projected image features spliced between token embeddings. history holds the prompt's token ids that the
    /// repetition penalty may see (image positions have none).
    /// </summary>
    public IEnumerable<string> StreamEmbeddings(float[] embeddings, IReadOnlyList<int> history, GenerationOptions options, CancellationToken cancellation = default)
    {
        int dim = _model.Dim;
        if (embeddings.Length == 0) throw new FurnaceException("the prompt is empty");
        if (embeddings.Length % dim != 0) throw new ArgumentException($"embeddings hold {embeddings.Length} floats, not a multiple of dim {dim}");
        return Run(embeddings.Length / dim, history is int[] arr ? arr : history.ToArray(), (state, ctx) => _model.ForwardEmbeddings(embeddings, state, ctx), options, cancellation);
    }

    public GenerationResult GenerateEmbeddings(float[] embeddings, IReadOnlyList<int> history, GenerationOptions options, CancellationToken cancellation = default)
    {
        var text = new System.Text.StringBuilder();
        foreach (string piece in StreamEmbeddings(embeddings, history, options, cancellation)) text.Append(piece);
        return LastResult! with { Text = text.ToString() };
    }

    private IEnumerable<string> Run(int promptLength, int[] promptHistory, Action<IDecoderState, KernelContext> prefill, GenerationOptions options, CancellationToken cancellation)
    {
        options.Validated();
        if (promptLength >= _contextLength)
            throw new FurnaceException($"the prompt has {promptLength} tokens, which leaves no room in the context of {_contextLength} tokens");
        return RunValidated(promptLength, promptHistory, prefill, options, cancellation);
    }

    private IEnumerable<string> RunValidated(int promptLength, int[] promptHistory, Action<IDecoderState, KernelContext> prefill, GenerationOptions options, CancellationToken cancellation)
    {
        int vocab = _model.VocabSize;
        var state = _model.NewDecoderState(Math.Min(_contextLength, promptLength + options.MaxTokens), maxBatch: Math.Min(64, promptLength));
        var seq = new GenerationSequence(_tokenizer, vocab, options, promptHistory, promptLength, state.ContextLength);

        var sw = Stopwatch.StartNew();
        prefill(state, _ctx);
        TimeSpan prefillTime = sw.Elapsed;
        sw.Restart();
        int[] one = new int[1];
        while (true)
        {
            cancellation.ThrowIfCancellationRequested();
            string piece = seq.Next(state.Logits.AsSpan(0, vocab));
            if (piece.Length > 0) yield return piece;
            if (seq.Done) break;
            one[0] = seq.LastToken;
            _model.Forward(one, state, _ctx);
        }
        string tail = seq.Flush();
        if (tail.Length > 0) yield return tail;
        LastResult = new GenerationResult("", promptLength, seq.Generated, seq.FinishReason, prefillTime, sw.Elapsed) { TokenIds = seq.TokenIds };
    }
}
