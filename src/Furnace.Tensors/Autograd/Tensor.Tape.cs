// The tape's bookkeeping on a Tensor: whether it carries a gradient because it is the output of a recorded op
// (a non-leaf), as opposed to a leaf whose RequiresGrad was set by its creator.
namespace Furnace.Tensors.Autograd;

public sealed partial class Tensor
{
    // true from the op that recorded this tensor until the tape releases it (Backward or Reset)
    internal bool Recorded;

    /// <summary>Whether a gradient flows into this tensor: a leaf that requires one, or the output of a recorded op.</summary>
    internal bool TracksGrad => RequiresGrad || Recorded;

    // a view over the same storage with another shape (Reshape)
    internal Tensor WithShape(int[] shape) => new(shape, Data);
}
