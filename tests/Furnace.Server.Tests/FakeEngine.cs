// A controllable IChatEngine for the server's queue, cancellation, shutdown and key tests: each request waits on a
// gate the test opens, then streams fixed pieces; at most 1 + maxQueue requests are admitted at once.
using System.Runtime.CompilerServices;
using Furnace.Generation;
using Furnace.Serving;

namespace Furnace.Server.Tests;

public sealed class FakeEngine(int maxQueue) : IChatEngine
{
    private int _admitted;

    public TaskCompletionSource Gate { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set when a request has been admitted and is waiting at the gate.</summary>
    public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Set when a request ends with its cancellation token fired.</summary>
    public TaskCompletionSource Cancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Answers like an engine that has been disposed (the server is going down).</summary>
    public bool Closed { get; set; }

    public string ModelId => "fake";

    public bool AcceptsImages => true;

    public int QueueDepth => Math.Max(0, Volatile.Read(ref _admitted) - 1);

    public async IAsyncEnumerable<ChatUpdate> StreamAsync(ChatRequest request, [EnumeratorCancellation] CancellationToken cancellation = default)
    {
        ObjectDisposedException.ThrowIf(Closed, this);
        if (Interlocked.Increment(ref _admitted) > 1 + maxQueue)
        {
            Interlocked.Decrement(ref _admitted);
            throw new ChatQueueFullException(maxQueue);
        }
        try
        {
            Started.TrySetResult();
            await Gate.Task.WaitAsync(cancellation);
            foreach (string piece in (string[])["Hello", ", ", "world"])
            {
                cancellation.ThrowIfCancellationRequested();
                yield return new ChatUpdate(piece);
            }
            yield return new ChatUpdate("", new GenerationResult("Hello, world", 5, 3, "stop", TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1)));
        }
        finally
        {
            if (cancellation.IsCancellationRequested) Cancelled.TrySetResult();
            Interlocked.Decrement(ref _admitted);
        }
    }

    public void Dispose()
    {
    }
}
