// Settings of a TrainingLoader: batch size, shuffling and its seed, how many epochs, and the background image
// loading (batches prefetched ahead, decoding threads).
namespace Furnace.Data;

public sealed record TrainingLoaderOptions
{
    public int BatchSize { get; init; } = 1;

    /// <summary>Seeds the order of every epoch, the caption choice (CaptionSampling.OneCaptionPerEpoch) and
    /// augmentation.</summary>
    public ulong Seed { get; init; }

    /// <summary>False: every epoch in file order.</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Epochs to run (null: until the caller stops reading).</summary>
    public int? Epochs { get; init; } = 1;

    /// <summary>Drop an epoch's last batch when it is smaller than BatchSize (batches never span epochs).</summary>
    public bool DropLast { get; init; }

    /// <summary>Batches loaded ahead on a background thread (0: load on the caller's thread).</summary>
    public int Prefetch { get; init; } = 2;

    /// <summary>Threads decoding and preprocessing the images of one batch.</summary>
    public int Workers { get; init; } = 1;

    /// <summary>Decode, preprocess (cache) and augment images; null: batches carry image paths only.</summary>
    public ImagePipeline? Images { get; init; }

    /// <summary>Data-parallel share: of every batch (BatchSize samples of the one seeded order, the global batch) this
    /// loader hands out only the contiguous slice [count·i/n, count·(i+1)/n) for ShardIndex i of ShardCount n (possibly
    /// empty); positions still advance by whole global batches, so they are the same on every shard.</summary>
    public int ShardIndex { get; init; }

    public int ShardCount { get; init; } = 1;

    public TrainingLoaderOptions Validated()
    {
        if (ShardCount < 1 || ShardIndex < 0 || ShardIndex >= ShardCount) throw new FurnaceException($"shard {ShardIndex} of {ShardCount} does not exist");
        if (BatchSize < 1) throw new FurnaceException($"batch size {BatchSize} must be at least 1");
        if (Epochs is < 1) throw new FurnaceException($"epochs {Epochs} must be at least 1");
        if (Prefetch is < 0 or > 1024) throw new FurnaceException($"prefetch {Prefetch} must be between 0 and 1024 batches");
        if (Workers is < 1 or > 1024) throw new FurnaceException($"workers {Workers} must be between 1 and 1024");
        return this;
    }
}
