// What the sequential and continuously batched engines share: one model (owned or borrowed), one worker thread that
// owns it, and a bounded queue of jobs in front. Admission, the streaming reader, cancellation of waiting jobs and
// disposal live here; each engine keeps only its work loop (how it takes jobs off the queue and runs them).
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Serving;

public abstract class QueuedChatEngine : IChatEngine, IChatEngineMetrics
{
    private readonly bool _ownsModel;
    private readonly int _slots;
    private readonly SemaphoreSlim _signal = new(0);
    private readonly CancellationTokenSource _closing = new();
    private Thread? _worker;

    // exactly one of llava and text is set; slots: how many jobs run at once besides the MaxQueue waiting ones
    private protected QueuedChatEngine(LlavaModel? llava, LanguageModel? text, string source, ChatEngineOptions options, bool ownsModel, int slots)
    {
        Options = options.Validated();
        Llava = llava;
        Text = text;
        _ownsModel = ownsModel;
        _slots = slots;
        ModelId = options.ModelId ?? ChatEngines.IdFromPath(source);
        Ctx = new KernelContext(options.Threads > 0 ? options.Threads : Environment.ProcessorCount);
    }

    public string ModelId { get; }

    public bool AcceptsImages => Llava != null;

    public int QueueDepth
    {
        get
        {
            lock (Sync) return Waiting.Count;
        }
    }

    public Action<int>? DecodeStepObserved { get; set; }

    private protected LlavaModel? Llava { get; }

    private protected LanguageModel? Text { get; }

    private protected ChatEngineOptions Options { get; }

    private protected KernelContext Ctx { get; }

    // guards Waiting, Running and Disposed
    private protected Lock Sync { get; } = new();

    private protected LinkedList<Job> Waiting { get; } = new();

    /// <summary>Jobs taken off the queue and not yet finished; set by the work loop under Sync.</summary>
    private protected int Running { get; set; }

    private protected bool Disposed { get; private set; }

    // starts the work loop; called by the engine once its own fields are set
    private protected void Start(string threadName)
    {
        _worker = new Thread(WorkLoop) { IsBackground = true, Name = threadName };
        _worker.Start();
    }

    // runs on the worker thread until Disposed is seen; waits on WaitForWork when there is nothing to do
    private protected abstract void WorkLoop();

    private protected void WaitForWork() => _signal.Wait();

    // a job that leaves the queue because it was cancelled never reaches the work loop; one that was already taken is
    // the loop's to drop, and an engine that sleeps while jobs run gets this hook to wake itself
    private protected virtual void OnRunningJobCancelled()
    {
    }

    private protected void Wake()
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

    public async IAsyncEnumerable<ChatUpdate> StreamAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Options.Validated();
        var job = new Job(request, CancellationTokenSource.CreateLinkedTokenSource(cancellation, _closing.Token));
        LinkedListNode<Job> node;
        lock (Sync)
        {
            // admitted while the running slots plus the MaxQueue waiting places have room
            Exception? refused = Disposed ? new ObjectDisposedException(GetType().Name)
                : Waiting.Count + Running >= Options.MaxQueue + _slots ? new ChatQueueFullException(Options.MaxQueue)
                : null;
            if (refused != null)
            {
                job.Cancellation.Dispose();
                throw refused;
            }
            node = Waiting.AddLast(job);
        }
        _signal.Release();
        CancellationTokenRegistration registration = job.Token.Register(() =>
        {
            bool removed;
            lock (Sync)
            {
                removed = node.List != null;
                if (removed) Waiting.Remove(node);
            }
            if (removed) job.Output.Writer.TryComplete(new OperationCanceledException(job.Token));
            else OnRunningJobCancelled();
        });
        try
        {
            // the reader sees the caller's cancellation even while the worker has not yet noticed it
            while (await job.Output.Reader.WaitToReadAsync(cancellation).ConfigureAwait(false))
            {
                while (job.Output.Reader.TryRead(out ChatUpdate? update))
                {
                    // set by the worker before its first write, so visible once an update is read
                    if (job.Think is not { } think)
                    {
                        yield return update;
                        continue;
                    }
                    string shown = think.Push(update.Text) + (update.Final != null ? think.Flush() : "");
                    job.Shown.Append(shown);
                    if (shown.Length > 0) yield return new ChatUpdate(shown);
                    if (update.Final != null) yield return new ChatUpdate("", update.Final with { Text = job.Shown.ToString(), Reasoning = think.Reasoning });
                }
            }
        }
        finally
        {
            // stops the worker at its next step when the caller leaves early; the worker only reads job.Token
            job.Cancellation.Cancel();
            registration.Dispose();
            job.Cancellation.Dispose();
        }
    }

    // room for the prompt and max tokens, within the configured (or the model's, at most 4096) context
    private protected int ContextFor(int maxPositions, int promptPositions, GenerationOptions options)
    {
        int limit = Options.ContextLength > 0 ? Math.Min(Options.ContextLength, maxPositions) : Math.Min(maxPositions, Math.Max(4096, promptPositions + options.MaxTokens));
        return Math.Max(2, limit);
    }

    // with Options.Think Hide: the job's output goes through a ThinkFilter; promptText is its rendered prompt (the
    // text tokens decoded), which tells whether the template opened the reasoning block. Call before the first write.
    private protected void StartThink(Job job, Formats.Tokenizers.Tokenizer tokenizer, int[] promptTextIds)
    {
        if (Options.Think == ThinkMode.Hide) job.Think = new ThinkFilter(ThinkMode.Hide, ThinkFilter.OpensThink(tokenizer.Decode(promptTextIds)));
    }

    private protected List<Job> DrainWaiting()
    {
        lock (Sync)
        {
            var jobs = Waiting.ToList();
            Waiting.Clear();
            return jobs;
        }
    }

    public void Dispose()
    {
        lock (Sync)
        {
            if (Disposed) return;
            Disposed = true;
        }
        _closing.Cancel();
        _signal.Release();
        _worker?.Join();
        foreach (Job job in DrainWaiting()) job.Output.Writer.TryComplete(new ObjectDisposedException(GetType().Name));
        Ctx.Dispose();
        _signal.Dispose();
        _closing.Dispose();
        if (_ownsModel)
        {
            Llava?.Dispose();
            Text?.Dispose();
        }
    }

    private protected sealed class Job(ChatRequest request, CancellationTokenSource cancellation)
    {
        public ChatRequest Request { get; } = request;

        public CancellationTokenSource Cancellation { get; } = cancellation;

        // taken once: reading a token stays valid after its source is disposed, asking the source for it does not
        public CancellationToken Token { get; } = cancellation.Token;

        public ThinkFilter? Think { get; set; }

        // what the reader has shown of a filtered answer
        public System.Text.StringBuilder Shown { get; } = new();

        public Channel<ChatUpdate> Output { get; } = Channel.CreateUnbounded<ChatUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    }
}
