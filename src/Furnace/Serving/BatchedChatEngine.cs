// A continuously batched IChatEngine (Orca, Yu et al. 2022; vLLM's and llama.cpp server's scheduling): one scheduler
// thread owns the model. Each round it admits waiting requests up to MaxBatch (their images encoded together in one
// vision pass), runs one prefill chunk of a newly admitted sequence, then one shared decode step for every sequence
// that is generating (LlamaModel.ForwardBatch: each weight read once for all of them). Each sequence keeps its own
// KV cache, sampler, stop filter and UTF-8 decoder (GenerationSequence) and streams to its own channel; finished or
// cancelled sequences leave at once and their slot goes to the next request. Greedy output equals the sequential
// engine's: prefill chunks match Generator's, and batched decode logits equal single-sequence ones to rounding.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Threading.Channels;
using Furnace.Formats.Images;
using Furnace.Formats.Tokenizers;
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Serving;

public sealed class BatchedChatEngine : IChatEngine, IChatEngineMetrics
{
    // positions per prefill chunk: Generator's chunk, so that prefill logits match the sequential engine's exactly
    private const int PrefillChunk = 64;

    private readonly LlavaModel? _llava;
    private readonly LanguageModel? _text;
    private readonly LlamaModel _decoder;
    private readonly Tokenizer _tokenizer;
    private readonly bool _ownsModel;
    private readonly ChatEngineOptions _options;
    private readonly KernelContext _ctx;
    private readonly Lock _lock = new();
    private readonly LinkedList<Job> _waiting = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _closing = new();
    private readonly Thread _scheduler;
    // scheduler-thread state: the admitted sequences and the step's gathered rows
    private readonly List<Sequence> _active = [];
    private readonly List<Job> _admitted = [];
    private readonly LlamaBatch _batch;
    private readonly int[] _stepTokens;
    private readonly LlamaState[] _stepStates;
    private readonly Sequence[] _stepSequences;
    private int _activeCount;
    private bool _disposed;

    public BatchedChatEngine(LlavaModel model, ChatEngineOptions options, bool ownsModel = true)
        : this(model, null, model.Decoder, model.Tokenizer, model.Source, options, ownsModel)
    {
    }

    public BatchedChatEngine(LanguageModel model, ChatEngineOptions options, bool ownsModel = true)
        : this(null, model, model.Model, model.Tokenizer, model.Path, options, ownsModel)
    {
    }

    private BatchedChatEngine(LlavaModel? llava, LanguageModel? text, LlamaModel decoder, Tokenizer tokenizer, string source, ChatEngineOptions options, bool ownsModel)
    {
        _options = options.Validated();
        _llava = llava;
        _text = text;
        _decoder = decoder;
        _tokenizer = tokenizer;
        _ownsModel = ownsModel;
        ModelId = options.ModelId ?? ChatEngines.IdFromPath(source);
        int b = options.MaxBatch;
        _batch = decoder.NewBatch(b);
        _stepTokens = new int[b];
        _stepStates = new LlamaState[b];
        _stepSequences = new Sequence[b];
        _ctx = new KernelContext(options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
        _scheduler = new Thread(ScheduleLoop) { IsBackground = true, Name = "furnace-batch-scheduler" };
        _scheduler.Start();
    }

    public string ModelId { get; }

    public bool AcceptsImages => _llava != null;

    public int MaxBatch => _options.MaxBatch;

    public int QueueDepth
    {
        get
        {
            lock (_lock) return _waiting.Count;
        }
    }

    /// <summary>Sequences admitted and not yet finished (prefilling or generating).</summary>
    public int ActiveCount
    {
        get
        {
            lock (_lock) return _activeCount;
        }
    }

    public Action<int>? DecodeStepObserved { get; set; }

    public async IAsyncEnumerable<ChatUpdate> StreamAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Options.Validated();
        var job = new Job(request, CancellationTokenSource.CreateLinkedTokenSource(cancellation, _closing.Token));
        LinkedListNode<Job> node;
        lock (_lock)
        {
            // MaxBatch slots plus MaxQueue waiting places
            Exception? refused = _disposed ? new ObjectDisposedException(nameof(BatchedChatEngine))
                : _waiting.Count + _activeCount >= _options.MaxQueue + _options.MaxBatch ? new ChatQueueFullException(_options.MaxQueue)
                : null;
            if (refused != null)
            {
                job.Cancellation.Dispose();
                throw refused;
            }
            node = _waiting.AddLast(job);
        }
        _signal.Release();
        CancellationTokenRegistration registration = job.Token.Register(() =>
        {
            bool removed;
            lock (_lock)
            {
                removed = node.List != null;
                if (removed) _waiting.Remove(node);
            }
            if (removed) job.Output.Writer.TryComplete(new OperationCanceledException(job.Token));
            else WakeScheduler(); // so an idle wait notices the cancelled sequence
        });
        try
        {
            while (await job.Output.Reader.WaitToReadAsync(cancellation).ConfigureAwait(false))
            {
                while (job.Output.Reader.TryRead(out ChatUpdate? update)) yield return update;
            }
        }
        finally
        {
            // the scheduler drops the sequence before its next step when the caller leaves early
            job.Cancellation.Cancel();
            registration.Dispose();
            job.Cancellation.Dispose();
        }
    }

    private void WakeScheduler()
    {
        try
        {
            _signal.Release();
        }
        catch (ObjectDisposedException)
        {
            // the engine is gone; nothing to wake
        }
    }

    private void ScheduleLoop()
    {
        try
        {
            while (true)
            {
                List<Job> admitted = _admitted;
                admitted.Clear();
                lock (_lock)
                {
                    if (_disposed) break;
                    while (_active.Count + admitted.Count < _options.MaxBatch && _waiting.First is { } first)
                    {
                        _waiting.RemoveFirst();
                        admitted.Add(first.Value);
                    }
                    _activeCount = _active.Count + admitted.Count;
                }
                if (admitted.Count > 0) Admit(admitted);
                DropCancelled();
                if (_active.Count == 0)
                {
                    lock (_lock) _activeCount = 0;
                    _signal.Wait();
                    continue;
                }
                // prefill one chunk of a new sequence between decode steps; when nobody is generating, prefill on
                bool decoding;
                do
                {
                    PrefillStep();
                    decoding = _active.Exists(s => s.Decoding);
                }
                while (!decoding && _active.Exists(s => !s.Prefilled));
                if (decoding) DecodeStep();
            }
        }
        catch (Exception e)
        {
            foreach (Sequence s in _active) s.Job.Output.Writer.TryComplete(e);
            _active.Clear();
            foreach (Job j in DrainWaiting()) j.Output.Writer.TryComplete(e);
            return;
        }
        foreach (Sequence s in _active) s.Job.Output.Writer.TryComplete(new ObjectDisposedException(nameof(BatchedChatEngine)));
        _active.Clear();
    }

    // builds the prompts of newly admitted requests; the images of all of them go through the vision tower together
    private void Admit(List<Job> jobs)
    {
        var prepared = new List<(Job Job, string? Rendered, List<RgbImage>? Images, int[]? Ids)>();
        foreach (Job job in jobs)
        {
            if (job.Token.IsCancellationRequested)
            {
                job.Output.Writer.TryComplete(new OperationCanceledException(job.Token));
                continue;
            }
            try
            {
                if (_llava != null)
                {
                    var (messages, images) = ChatPromptBuilder.Flatten(job.Request.Messages, acceptsImages: true);
                    string? eos = _tokenizer.EosId is int e ? _tokenizer.TokenText(e) : null;
                    prepared.Add((job, ChatPromptBuilder.Render(_llava.Template, messages, eos), images, null));
                }
                else prepared.Add((job, null, null, ChatPromptBuilder.Build(_text!, job.Request)));
            }
            catch (Exception e)
            {
                job.Output.Writer.TryComplete(e);
            }
        }
        float[] projected = [];
        int totalImages = prepared.Sum(p => p.Images?.Count ?? 0);
        if (totalImages > 0)
        {
            try
            {
                projected = _llava!.ProjectImages(prepared.SelectMany(p => p.Images ?? []).ToList(), _ctx);
            }
            catch (Exception e)
            {
                foreach (var p in prepared) p.Job.Output.Writer.TryComplete(e);
                return;
            }
        }
        int imageFloats = _llava == null ? 0 : _llava.TokensPerImage * _decoder.Config.Dim, at = 0;
        foreach (var p in prepared)
        {
            try
            {
                Sequence s;
                if (_llava != null)
                {
                    int count = p.Images!.Count;
                    float[] mine = projected.AsSpan(at * imageFloats, count * imageFloats).ToArray();
                    at += count;
                    LlavaPrompt prompt = _llava.BuildPrompt(p.Rendered!, count, mine);
                    s = NewSequence(p.Job, prompt.Positions, prompt.TextIds, prompt.Embeddings, null);
                }
                else s = NewSequence(p.Job, p.Ids!.Length, p.Ids, null, p.Ids);
                _active.Add(s);
            }
            catch (Exception e)
            {
                p.Job.Output.Writer.TryComplete(e);
            }
        }
    }

    private Sequence NewSequence(Job job, int positions, int[] history, float[]? embeddings, int[]? ids)
    {
        GenerationOptions options = job.Request.Options;
        // as SequentialChatEngine + Generator size it: room for the prompt and max tokens within the engine's context
        int limit = _options.ContextLength > 0
            ? Math.Min(_options.ContextLength, _decoder.Config.MaxPositions)
            : Math.Min(_decoder.Config.MaxPositions, Math.Max(4096, positions + options.MaxTokens));
        int contextLength = Math.Min(Math.Max(2, limit), _decoder.Config.MaxPositions);
        if (positions >= contextLength)
            throw new FurnaceException($"the prompt has {positions} tokens, which leaves no room in the context of {contextLength} tokens");
        LlamaState state = _decoder.NewState(Math.Min(contextLength, positions + options.MaxTokens), maxBatch: Math.Min(PrefillChunk, positions));
        var gen = new GenerationSequence(_tokenizer, _decoder.Config.VocabSize, options, history, positions, state.ContextLength);
        return new Sequence(job, state, gen, positions, embeddings, ids);
    }

    private void DropCancelled()
    {
        for (int i = _active.Count - 1; i >= 0; i--)
        {
            Job job = _active[i].Job;
            if (!job.Token.IsCancellationRequested) continue;
            job.Output.Writer.TryComplete(new OperationCanceledException(job.Token));
            _active.RemoveAt(i);
        }
    }

    private void PrefillStep()
    {
        Sequence? s = _active.Find(x => !x.Prefilled);
        if (s == null) return;
        int n = Math.Min(s.State.MaxBatch, s.Positions - s.Done);
        s.Clock.Start();
        if (s.Embeddings != null)
        {
            int dim = _decoder.Config.Dim;
            _decoder.ForwardEmbeddings(s.Embeddings.AsSpan(s.Done * dim, n * dim), s.State, _ctx);
        }
        else _decoder.Forward(s.Ids.AsSpan(s.Done, n), s.State, _ctx);
        s.Done += n;
        s.Clock.Stop();
        if (!s.Prefilled) return;
        s.PrefillTime = s.Clock.Elapsed;
        s.Clock.Restart();
        s.Embeddings = null;
        Emit(s, s.Gen.Next(s.State.Logits.AsSpan(0, _decoder.Config.VocabSize)));
    }

    private void DecodeStep()
    {
        int n = 0;
        foreach (Sequence s in _active)
        {
            if (!s.Decoding) continue;
            _stepTokens[n] = s.Gen.LastToken;
            _stepStates[n] = s.State;
            _stepSequences[n++] = s;
        }
        _decoder.ForwardBatch(_stepTokens.AsSpan(0, n), _stepStates.AsSpan(0, n), _batch, _ctx);
        DecodeStepObserved?.Invoke(n);
        for (int i = 0; i < n; i++)
        {
            Sequence s = _stepSequences[i];
            Emit(s, s.Gen.Next(_batch.LogitsOf(i)));
            _stepSequences[i] = null!;
            _stepStates[i] = null!;
        }
    }

    // streams a piece; a finished sequence flushes, sends its result and leaves
    private void Emit(Sequence s, string piece)
    {
        if (piece.Length > 0)
        {
            s.Text.Append(piece);
            s.Job.Output.Writer.TryWrite(new ChatUpdate(piece));
        }
        if (!s.Gen.Done) return;
        string tail = s.Gen.Flush();
        if (tail.Length > 0)
        {
            s.Text.Append(tail);
            s.Job.Output.Writer.TryWrite(new ChatUpdate(tail));
        }
        var result = new GenerationResult(s.Text.ToString(), s.Positions, s.Gen.Generated, s.Gen.FinishReason, s.PrefillTime, s.Clock.Elapsed) { TokenIds = s.Gen.TokenIds };
        s.Job.Output.Writer.TryWrite(new ChatUpdate("", result));
        s.Job.Output.Writer.TryComplete();
        _active.Remove(s);
    }

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
        }
        _closing.Cancel();
        _signal.Release();
        _scheduler.Join();
        foreach (Job job in DrainWaiting()) job.Output.Writer.TryComplete(new ObjectDisposedException(nameof(BatchedChatEngine)));
        _ctx.Dispose();
        _signal.Dispose();
        _closing.Dispose();
        if (_ownsModel)
        {
            _llava?.Dispose();
            _text?.Dispose();
        }
    }

    private List<Job> DrainWaiting()
    {
        lock (_lock)
        {
            var jobs = _waiting.ToList();
            _waiting.Clear();
            return jobs;
        }
    }

    private sealed class Job(ChatRequest request, CancellationTokenSource cancellation)
    {
        public ChatRequest Request { get; } = request;

        public CancellationTokenSource Cancellation { get; } = cancellation;

        public CancellationToken Token { get; } = cancellation.Token;

        public Channel<ChatUpdate> Output { get; } = Channel.CreateUnbounded<ChatUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    }

    // one admitted request: its KV cache, its generation state and its prompt until prefilled
    private sealed class Sequence(Job job, LlamaState state, GenerationSequence gen, int positions, float[]? embeddings, int[]? ids)
    {
        public Job Job { get; } = job;

        public LlamaState State { get; } = state;

        public GenerationSequence Gen { get; } = gen;

        public int Positions { get; } = positions;

        public float[]? Embeddings { get; set; } = embeddings;

        public int[]? Ids { get; } = ids;

        /// <summary>Prompt positions prefilled so far.</summary>
        public int Done { get; set; }

        public bool Prefilled => Done == Positions;

        public bool Decoding => Prefilled && !Gen.Done;

        public StringBuilder Text { get; } = new();

        public Stopwatch Clock { get; } = new();

        public TimeSpan PrefillTime { get; set; }
    }
}
