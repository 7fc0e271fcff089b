// The optimiser state of one parameter (torch.optim.AdamW's state[p]: "step", "exp_avg", "exp_avg_sq"), allocated
// once with the optimiser so that a step allocates nothing.
using Furnace.Tensors.Autograd;

namespace Furnace.Training;

public sealed class AdamWState
{
    internal AdamWState(Tensor parameter)
    {
        Parameter = parameter;
        ExpAvg = new float[parameter.Length];
        ExpAvgSq = new float[parameter.Length];
    }

    public Tensor Parameter { get; }

    /// <summary>First moment m, same length as the parameter.</summary>
    public float[] ExpAvg { get; }

    /// <summary>Second moment v, same length as the parameter.</summary>
    public float[] ExpAvgSq { get; }

    /// <summary>Updates applied to this parameter (torch counts per parameter; a step without a gradient does not count).</summary>
    public long Step { get; set; }
}
