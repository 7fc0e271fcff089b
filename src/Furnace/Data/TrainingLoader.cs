// Streams batches of a TrainingSet for training: epochs in a seeded shuffled order, batches that never span
// epochs, images decoded, preprocessed and augmented on a background thread a bounded number of batches ahead.
// Everything is a function of the data position: epoch e's order is a Fisher–Yates shuffle with a generator
// seeded by (seed, e); caption choice and augmentation of sample i in epoch e are seeded by (seed, e, i). So a
// loader started from a saved DataPosition yields exactly the batches the interrupted one would have yielded.
using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using Furnace.Formats.Images;

namespace Furnace.Data;

public sealed class TrainingLoader : IDisposable
{
    private readonly TrainingSet _set;
    private readonly Channel<(TrainingBatch? Batch, ExceptionDispatchInfo? Error)>? _queue;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task? _producer;
    private DataPosition _next;      // consumer side: where the next batch handed out starts
    private DataPosition _produce;   // producer side
    private int[]? _order;
    private int _orderEpoch = -1;
    private bool _done;
    private bool _disposed;

    /// <param name="resume">A position saved from TrainingBatch.Next (or Position); null: the start of epoch 0.</param>
    public TrainingLoader(TrainingSet set, TrainingLoaderOptions? options = null, DataPosition? resume = null)
    {
        ArgumentNullException.ThrowIfNull(set);
        _set = set;
        Options = (options ?? new TrainingLoaderOptions()).Validated();
        if (resume is not null)
        {
            if (resume.Seed != Options.Seed)
                throw new FurnaceException($"cannot resume: the saved data position has seed {resume.Seed}, the loader seed {Options.Seed}");
            if (resume.Count != set.Count)
                throw new FurnaceException($"cannot resume: the saved data position is for {resume.Count} samples, {set.Path} now has {set.Count} (the data changed)");
        }
        if (Options.DropLast && set.Count < Options.BatchSize)
            throw new FurnaceException($"{set.Path}: {set.Count} samples cannot fill one batch of {Options.BatchSize} (drop-last would yield nothing)");
        _next = Normalize(resume ?? new DataPosition(0, 0, Options.Seed, set.Count));
        _produce = _next;
        if (Options.Prefetch > 0)
        {
            _queue = Channel.CreateBounded<(TrainingBatch?, ExceptionDispatchInfo?)>(
                new BoundedChannelOptions(Options.Prefetch) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
            _producer = Task.Factory.StartNew(Produce, TaskCreationOptions.LongRunning);
        }
    }

    public TrainingLoaderOptions Options { get; }

    public TrainingSet Set => _set;

    /// <summary>Where the next batch starts (after the last one handed out).</summary>
    public DataPosition Position => _next;

    public int BatchesPerEpoch => Options.DropLast ? _set.Count / Options.BatchSize : (_set.Count + Options.BatchSize - 1) / Options.BatchSize;

    /// <summary>Sample indices of an epoch in loader order: a seeded Fisher–Yates permutation (or 0..count−1
    /// without shuffling).</summary>
    public static int[] EpochOrder(int count, int epoch, ulong seed, bool shuffle = true)
    {
        var order = new int[count];
        for (int i = 0; i < count; i++) order[i] = i;
        if (!shuffle) return order;
        var rng = DataRandom.For(seed, epoch, 0, "order");
        for (int i = count - 1; i > 0; i--)
        {
            int j = rng.NextInt(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }

    /// <summary>The seed of sample <paramref name="index"/>'s augmentation in <paramref name="epoch"/>.</summary>
    public static ulong AugmentationSeed(ulong seed, int epoch, int index) => DataRandom.Hash(seed, epoch, index, "augment");

    /// <summary>The next batch, or false after the last epoch. Rethrows a loading error (a missing or corrupt image)
    /// at the batch it belongs to.</summary>
    public bool TryNext(out TrainingBatch batch)
    {
        batch = null!;
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_done) return false;
        TrainingBatch? b;
        if (_queue is null)
        {
            try
            {
                b = Build(ref _produce);
            }
            catch
            {
                _done = true; // as with prefetch: the loader ends at its first loading error
                throw;
            }
        }
        else
        {
            (TrainingBatch?, ExceptionDispatchInfo?) item;
            try
            {
                while (!_queue.Reader.TryRead(out item))
                {
                    if (!_queue.Reader.WaitToReadAsync(_stop.Token).AsTask().GetAwaiter().GetResult())
                    {
                        item = (null, null);
                        break;
                    }
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                throw new ObjectDisposedException(nameof(TrainingLoader));
            }
            if (item.Item2 is { } error)
            {
                _done = true;
                error.Throw();
            }
            b = item.Item1;
        }
        if (b is null)
        {
            _done = true;
            return false;
        }
        _next = b.Next;
        batch = b;
        return true;
    }

    /// <summary>The remaining batches (as TryNext yields them).</summary>
    public IEnumerable<TrainingBatch> Batches()
    {
        while (TryNext(out var b)) yield return b;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _stop.Cancel();
        try
        {
            _producer?.Wait();
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }

    private void Produce()
    {
        var writer = _queue!.Writer;
        try
        {
            while (true)
            {
                TrainingBatch? b = Build(ref _produce);
                if (b is null) break;
                writer.WriteAsync((b, null), _stop.Token).AsTask().GetAwaiter().GetResult();
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            // handed over at the batch it belongs to, after the batches already queued
            try
            {
                writer.WriteAsync((null, ExceptionDispatchInfo.Capture(e)), _stop.Token).AsTask().GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
            }
        }
        writer.TryComplete();
    }

    // The end of an epoch (all of it, or all but a remainder that DropLast drops) is the next epoch's start.
    private DataPosition Normalize(DataPosition p) =>
        p.Index >= p.Count || (Options.DropLast && p.Count - p.Index < Options.BatchSize) ? p with { Epoch = p.Epoch + 1, Index = 0 } : p;

    private bool Finished(DataPosition p) => _set.Count == 0 || (Options.Epochs is int e && p.Epoch >= e);

    // The batch at position p (null when the epochs are over), advancing p past it.
    private TrainingBatch? Build(ref DataPosition p)
    {
        int n = _set.Count, size = Options.BatchSize;
        p = Normalize(p);
        if (Finished(p)) return null;
        if (_orderEpoch != p.Epoch)
        {
            _order = EpochOrder(n, p.Epoch, Options.Seed, Options.Shuffle);
            _orderEpoch = p.Epoch;
        }
        int global = Math.Min(size, n - p.Index);
        // this shard's slice of the global batch (all of it without sharding)
        int first = (int)((long)global * Options.ShardIndex / Options.ShardCount);
        int count = (int)((long)global * (Options.ShardIndex + 1) / Options.ShardCount) - first;
        var indices = new int[count];
        var examples = new TrainingExample[count];
        var pixels = new PixelValues?[count];
        int epoch = p.Epoch;
        for (int k = 0; k < count; k++)
        {
            indices[k] = _order![p.Index + first + k];
            examples[k] = _set.Example(indices[k], epoch, Options.Seed);
        }
        if (Options.Images is { } images)
        {
            void Load(int k) => (examples[k], pixels[k]) = images.Load(examples[k], AugmentationSeed(Options.Seed, epoch, indices[k]));
            if (Options.Workers == 1 || count == 1)
            {
                for (int k = 0; k < count; k++) Load(k);
            }
            else
            {
                try
                {
                    Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Options.Workers, CancellationToken = _stop.Token }, Load);
                }
                catch (AggregateException e) when (e.InnerExceptions.Count > 0)
                {
                    // the first failing example in batch order, as the sequential path would report it
                    ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
                }
            }
        }
        var start = p;
        p = Normalize(p with { Index = p.Index + global });
        return new TrainingBatch(start, p, indices, examples, pixels);
    }
}
