// One batch from a TrainingLoader: its examples (text already augmented), their preprocessed pixels, where they
// came from, and the data positions before and after it. A trainer that finishes the step for this batch
// checkpoints Next; resuming from it yields exactly the batches that follow.
using Furnace.Formats.Images;

namespace Furnace.Data;

public sealed class TrainingBatch
{
    public TrainingBatch(DataPosition start, DataPosition next, IReadOnlyList<int> indices, IReadOnlyList<TrainingExample> examples, IReadOnlyList<PixelValues?> pixels)
    {
        Start = start;
        Next = next;
        Indices = indices;
        Examples = examples;
        Pixels = pixels;
    }

    /// <summary>The position of the batch's first example.</summary>
    public DataPosition Start { get; }

    /// <summary>The position after the batch (the next epoch's start after its last batch).</summary>
    public DataPosition Next { get; }

    public int Epoch => Start.Epoch;

    /// <summary>Sample indices into the TrainingSet.</summary>
    public IReadOnlyList<int> Indices { get; }

    public IReadOnlyList<TrainingExample> Examples { get; }

    /// <summary>(3, H, W) pixels per example; null for a text-only example or when the loader has no ImagePipeline.</summary>
    public IReadOnlyList<PixelValues?> Pixels { get; }

    public int Count => Examples.Count;
}
