// An ITrainingObjective from two functions: the loss of a batch on the tape, and what a batch holds.
using Furnace.Tensors.Autograd;

namespace Furnace.Training;

public sealed class DelegateObjective<TBatch>(Func<Tape, TBatch, Tensor> loss, Func<TBatch, BatchCounts> count) : ITrainingObjective<TBatch>
{
    public Tensor Loss(Tape tape, TBatch batch) => loss(tape, batch);

    public BatchCounts Count(TBatch batch) => count(batch);
}
