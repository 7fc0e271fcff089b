// What the trainer trains: a scalar loss of a batch, recorded on the tape (the model's forward and its loss), and
// the backward pass from it. The default Backward runs the tape from loss·scale (scale = 1/N over N accumulated
// micro-batches); an objective that computes its gradients itself (a hand-written model in tests) overrides it and
// adds scale·∂loss/∂p into each parameter's Grad. The trainer only ever reads Tensor.Data, Grad and Name.
using Furnace.Tensors.Autograd;

namespace Furnace.Training;

public interface ITrainingObjective<in TBatch>
{
    /// <summary>The mean loss over the batch, shape (1,). Called with tape.Enabled = false for validation.</summary>
    Tensor Loss(Tape tape, TBatch batch);

    BatchCounts Count(TBatch batch);

    /// <summary>Adds scale · ∂loss/∂p to every trainable parameter's Grad.</summary>
    void Backward(Tape tape, Tensor loss, float scale) => tape.Backward(scale == 1f ? loss : tape.Scale(loss, scale));
}
