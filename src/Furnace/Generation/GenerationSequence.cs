// The per-token logic of one generated sequence, shared by the single-sequence Generator and the batched chat engine:
// sample from the logits → record the token → stop at an end-of-generation token, a stop string, max tokens or the
// end of the context → stream the text that is complete UTF-8 and clear of stop strings. The caller owns the model
// pass: after each Next it evaluates LastToken unless Done. Buffers are sized once; a step allocates only its text.
using Furnace.Formats.Tokenizers;

namespace Furnace.Generation;

public sealed class GenerationSequence
{
    private readonly Tokenizer _tokenizer;
    private readonly GenerationOptions _options;
    private readonly Sampler _sampler;
    private readonly Utf8StreamDecoder _decoder;
    private readonly StopStringFilter _stops;
    private readonly int[] _history;
    private readonly List<int> _produced;
    private readonly int _contextLength;
    private int _len, _position;
    private bool _flushed;

    /// <param name="promptHistory">The prompt's token ids the repetition penalty may see (image positions have none).</param>
    /// <param name="promptLength">Positions the prompt takes in the context.</param>
    /// <param name="contextLength">Positions the sequence may reach; generation ends with "length" there.</param>
    public GenerationSequence(Tokenizer tokenizer, int vocabSize, GenerationOptions options, ReadOnlySpan<int> promptHistory, int promptLength, int contextLength)
    {
        options.Validated();
        if (promptLength >= contextLength)
            throw new FurnaceException($"the prompt has {promptLength} tokens, which leaves no room in the context of {contextLength} tokens");
        _tokenizer = tokenizer;
        _options = options;
        _sampler = new Sampler(vocabSize, options.Sampling);
        _decoder = new Utf8StreamDecoder(tokenizer);
        _stops = new StopStringFilter(options.Stop);
        _history = new int[promptHistory.Length + options.MaxTokens];
        promptHistory.CopyTo(_history);
        _len = promptHistory.Length;
        _produced = new List<int>(Math.Min(options.MaxTokens, 4096));
        PromptLength = _position = promptLength;
        _contextLength = contextLength;
    }

    public int PromptLength { get; }

    public int Generated { get; private set; }

    /// <summary>The last sampled token: what the model evaluates next when the sequence is not Done.</summary>
    public int LastToken { get; private set; } = -1;

    /// <summary>Set when generation has ended; FinishReason says why.</summary>
    public bool Done { get; private set; }

    /// <summary>"stop" (end-of-generation token or stop string) or "length" (max tokens or context full).</summary>
    public string FinishReason { get; private set; } = "length";

    /// <summary>The generated ids, the end-of-generation token included when one ended the stream.</summary>
    public IReadOnlyList<int> TokenIds => _produced;

    /// <summary>
    /// Samples the next token from logits (vocab,), modified in place by the repetition penalty, and returns the text
    /// that became safe to emit (often empty). Sets Done when this token ends the sequence.
    /// </summary>
    public string Next(Span<float> logits)
    {
        if (Done) throw new InvalidOperationException("the sequence has ended");
        int next = _sampler.Sample(logits, _history.AsSpan(0, _len));
        _history[_len++] = next;
        _position++;
        Generated++;
        _produced.Add(next);
        LastToken = next;
        if (!_options.IgnoreEos && _tokenizer.IsEndOfGeneration(next))
        {
            FinishReason = "stop";
            Done = true;
            return string.Empty;
        }
        string piece = _stops.Push(_decoder.Push(next));
        if (_stops.Stopped)
        {
            FinishReason = "stop";
            Done = true;
        }
        else if (Generated >= _options.MaxTokens || _position >= _contextLength) Done = true;
        return piece;
    }

    /// <summary>The held-back text once the sequence is Done (incomplete UTF-8, a stop-string prefix that never completed).</summary>
    public string Flush()
    {
        if (_flushed || _stops.Stopped) return string.Empty;
        _flushed = true;
        return _stops.Push(_decoder.Flush()) + _stops.Flush();
    }
}
