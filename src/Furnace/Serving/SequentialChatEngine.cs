// The simplest IChatEngine: one model, one worker thread, one request at a time through the existing Generator, with
// a bounded queue in front. Waiting requests that are cancelled leave the queue at once; a running one stops at its
// next token. The continuously batched engine implements the same contract.
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Serving;

public sealed class SequentialChatEngine : IChatEngine, IChatEngineMetrics
{
    private readonly LlavaModel? _llava;
    private readonly LanguageModel? _text;
    private readonly bool _ownsModel;
    private readonly ChatEngineOptions _options;
    private readonly KernelContext _ctx;
    private readonly Lock _lock = new();
    private readonly LinkedList<Job> _waiting = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _closing = new();
    private readonly Thread _worker;
    private bool _busy;
    private bool _disposed;

    public SequentialChatEngine(LlavaModel model, ChatEngineOptions options, bool ownsModel = true)
        : this(model, null, model.Source, options, ownsModel)
    {
    }

    public SequentialChatEngine(LanguageModel model, ChatEngineOptions options, bool ownsModel = true)
        : this(null, model, model.Path, options, ownsModel)
    {
    }

    private SequentialChatEngine(LlavaModel? llava, LanguageModel? text, string source, ChatEngineOptions options, bool ownsModel)
    {
        _options = options.Validated();
        _llava = llava;
        _text = text;
        _ownsModel = ownsModel;
        ModelId = options.ModelId ?? ChatEngines.IdFromPath(source);
        _ctx = new KernelContext(options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
        _worker = new Thread(WorkLoop) { IsBackground = true, Name = "furnace-chat-worker" };
        _worker.Start();
    }

    public string ModelId { get; }

    public bool AcceptsImages => _llava != null;

    public int QueueDepth
    {
        get
        {
            lock (_lock) return _waiting.Count;
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
            // admitted while the worker slot plus the queue have room
            Exception? refused = _disposed ? new ObjectDisposedException(nameof(SequentialChatEngine))
                : _waiting.Count + (_busy ? 1 : 0) >= _options.MaxQueue + 1 ? new ChatQueueFullException(_options.MaxQueue)
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
        });
        try
        {
            // the reader sees the caller's cancellation even while the worker has not yet noticed it
            while (await job.Output.Reader.WaitToReadAsync(cancellation).ConfigureAwait(false))
            {
                while (job.Output.Reader.TryRead(out ChatUpdate? update)) yield return update;
            }
        }
        finally
        {
            // stops the worker at its next token when the caller leaves early; the worker only reads job.Token
            job.Cancellation.Cancel();
            registration.Dispose();
            job.Cancellation.Dispose();
        }
    }

    private void WorkLoop()
    {
        while (true)
        {
            _signal.Wait();
            Job? job;
            lock (_lock)
            {
                if (_waiting.Count == 0)
                {
                    if (_disposed) return;
                    continue; // a waiting request was cancelled
                }
                job = _waiting.First!.Value;
                _waiting.RemoveFirst();
                _busy = true;
            }
            try
            {
                Run(job);
                job.Output.Writer.TryComplete();
            }
            catch (Exception e)
            {
                job.Output.Writer.TryComplete(e);
            }
            finally
            {
                lock (_lock) _busy = false;
            }
        }
    }

    private void Run(Job job)
    {
        CancellationToken token = job.Token;
        token.ThrowIfCancellationRequested();
        GenerationOptions options = job.Request.Options;
        Generator generator;
        IEnumerable<string> pieces;
        if (_llava != null)
        {
            LlavaPrompt prompt = ChatPromptBuilder.Build(_llava, job.Request, _ctx);
            generator = new Generator(_llava.Decoder, _llava.Tokenizer, _ctx, ContextFor(_llava.Decoder.Config.MaxPositions, prompt.Positions, options));
            pieces = generator.StreamEmbeddings(prompt.Embeddings, prompt.TextIds, options, token);
        }
        else
        {
            int[] ids = ChatPromptBuilder.Build(_text!, job.Request);
            generator = new Generator(_text!.Model, _text.Tokenizer, _ctx, ContextFor(_text.Model.Config.MaxPositions, ids.Length, options));
            pieces = generator.Stream(ids, options, token);
        }
        var text = new System.Text.StringBuilder();
        foreach (string piece in pieces)
        {
            text.Append(piece);
            job.Output.Writer.TryWrite(new ChatUpdate(piece));
        }
        GenerationResult result = generator.LastResult! with { Text = text.ToString() };
        // one sequence per decode step, one step per generated token
        if (DecodeStepObserved is { } observe)
        {
            for (int i = 0; i < result.GeneratedTokens; i++) observe(1);
        }
        job.Output.Writer.TryWrite(new ChatUpdate("", result));
    }

    // room for the prompt and max tokens, within the configured (or the model's, at most 4096) context
    private int ContextFor(int maxPositions, int promptPositions, GenerationOptions options)
    {
        int limit = _options.ContextLength > 0 ? Math.Min(_options.ContextLength, maxPositions) : Math.Min(maxPositions, Math.Max(4096, promptPositions + options.MaxTokens));
        return Math.Max(2, limit);
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
        _worker.Join();
        foreach (Job job in DrainWaiting()) job.Output.Writer.TryComplete(new ObjectDisposedException(nameof(SequentialChatEngine)));
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

        // taken once: reading a token stays valid after its source is disposed, asking the source for it does not
        public CancellationToken Token { get; } = cancellation.Token;

        public Channel<ChatUpdate> Output { get; } = Channel.CreateUnbounded<ChatUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    }
}
