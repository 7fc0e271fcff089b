// Where a batch source stands: the epoch, the index of the next sample within that epoch's order, and the seed the
// epoch orders are shuffled from. Saved in checkpoints so that a resumed run sees the same batches.
namespace Furnace.Training;

public readonly record struct DataPosition(int Epoch, int Index, ulong ShuffleSeed);
