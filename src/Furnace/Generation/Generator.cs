// The generation loop: prefill the prompt, then sample → stream text → decode one token, until an end-of-generation
// token, a stop string, max tokens or the end of the context. Buffers (state, sampler, KV cache) are made once per
// call; the per-token loop allocates only the text it returns.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using Furnace.Formats.Tokenizers;
using Furnace.Models.Llama;
using Furnace.Tensors;

namespace Furnace.Generation;

public sealed class Generator
{
    private readonly LlamaModel _model;
    private readonly Tokenizer _tokenizer;
    private readonly KernelContext _ctx;
    private readonly int _contextLength;

    public Generator(LlamaModel model, Tokenizer tokenizer, KernelContext ctx, int contextLength)
    {
        if (contextLength < 2) throw new FurnaceException($"context length {contextLength} is too small");
        _model = model;
        _tokenizer = tokenizer;
        _ctx = ctx;
        _contextLength = Math.Min(contextLength, model.Config.MaxPositions);
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
        options.Validated();
        if (prompt.Count == 0) throw new FurnaceException("the prompt is empty");
        if (prompt.Count >= _contextLength)
            throw new FurnaceException($"the prompt has {prompt.Count} tokens, which leaves no room in the context of {_contextLength} tokens");
        int vocab = _model.Config.VocabSize;
        var state = _model.NewState(Math.Min(_contextLength, prompt.Count + options.MaxTokens), maxBatch: Math.Min(64, prompt.Count));
        var sampler = new Sampler(vocab, options.Sampling);
        var decoder = new Utf8StreamDecoder(_tokenizer);
        var stops = new StopStringFilter(options.Stop);
        var history = new int[state.ContextLength];
        for (int i = 0; i < prompt.Count; i++) history[i] = prompt[i];
        int len = prompt.Count, generated = 0;
        string finish = "length";

        var sw = Stopwatch.StartNew();
        _model.Forward(prompt is int[] arr ? arr : prompt.ToArray(), state, _ctx);
        TimeSpan prefill = sw.Elapsed;
        sw.Restart();
        int[] one = new int[1];
        while (generated < options.MaxTokens && len < state.ContextLength)
        {
            cancellation.ThrowIfCancellationRequested();
            int next = sampler.Sample(state.Logits.AsSpan(0, vocab), history.AsSpan(0, len));
            history[len++] = next;
            generated++;
            if (!options.IgnoreEos && _tokenizer.IsEndOfGeneration(next))
            {
                finish = "stop";
                break;
            }
            string piece = stops.Push(decoder.Push(next));
            if (piece.Length > 0) yield return piece;
            if (stops.Stopped)
            {
                finish = "stop";
                break;
            }
            if (generated < options.MaxTokens && len < state.ContextLength)
            {
                one[0] = next;
                _model.Forward(one, state, _ctx);
            }
        }
        if (!stops.Stopped)
        {
            string tail = stops.Push(decoder.Flush()) + stops.Flush();
            if (tail.Length > 0) yield return tail;
        }
        LastResult = new GenerationResult("", prompt.Count, generated, finish, prefill, sw.Elapsed);
    }
}
