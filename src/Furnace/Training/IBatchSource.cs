// An endless, seekable stream of training batches: epochs follow each other (reshuffled from the position's seed),
// and Seek(Position) taken before a Next() makes the source give that same batch again — what resume relies on.
using Furnace.Data;

namespace Furnace.Training;

public interface IBatchSource<out TBatch>
{
    /// <summary>Where the next batch starts.</summary>
    DataPosition Position { get; }

    /// <summary>Samples in one epoch (for epoch counts in logs).</summary>
    int EpochSize { get; }

    void Seek(DataPosition position);

    TBatch Next();
}
