// How an engine is set up: its queue, batch and context sizes and the threads its kernels use (`furnace serve` options).
namespace Furnace.Serving;

public sealed record ChatEngineOptions
{
    /// <summary>Requests that may wait for a slot; one more is refused with ChatQueueFullException.</summary>
    public int MaxQueue { get; init; } = 16;

    /// <summary>Sequences decoded together (a batched engine); a sequential engine runs one at a time.</summary>
    public int MaxBatch { get; init; } = 1;

    /// <summary>Kernel threads; 0 takes every core.</summary>
    public int Threads { get; init; }

    /// <summary>Context length per request in tokens; 0 takes the model's (at most 4096).</summary>
    public int ContextLength { get; init; }

    /// <summary>The id /v1/models lists; null takes the model path's last component.</summary>
    public string? ModelId { get; init; }

    /// <summary>Hide: an R1-style reasoning block is left out of the streamed content (the final result's Reasoning holds it).</summary>
    public Furnace.Generation.ThinkMode Think { get; init; } = Furnace.Generation.ThinkMode.Show;

    public ChatEngineOptions Validated()
    {
        if (MaxQueue < 0) throw new FurnaceException($"--max-queue {MaxQueue} must be >= 0");
        if (MaxBatch < 1) throw new FurnaceException($"--max-batch {MaxBatch} must be >= 1");
        if (Threads < 0) throw new FurnaceException($"--threads {Threads} must be >= 0");
        if (ContextLength < 0) throw new FurnaceException($"--context {ContextLength} must be >= 0");
        return this;
    }
}
