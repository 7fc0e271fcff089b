// AdamW with decoupled weight decay, exactly torch.optim.AdamW (torch 1.13, torch/optim/adamw.py
// `_single_tensor_adamw`, amsgrad=False, maximize=False): for each parameter with a gradient,
//   t += 1;  p *= 1 − lr·wd;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;
//   p −= lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + eps)
// over parameter groups with their own peak learning rate and weight decay; the schedule multiplies every group's
// learning rate by one factor per step (as HF's LambdaLR does). Frozen groups are neither updated nor counted.
using Furnace.Tensors;
using Furnace.Tensors.Autograd;

namespace Furnace.Training;

public sealed class AdamW
{
    private readonly AdamWState[][] _states; // per group, per parameter
    private readonly bool[] _frozen;

    public AdamW(IReadOnlyList<ParameterGroup> groups, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (beta1 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1)");
        if (beta2 is < 0 or >= 1) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1)");
        if (eps < 0) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be >= 0");
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in groups)
        {
            if (!names.Add(g.Name)) throw new ArgumentException($"parameter group '{g.Name}' appears twice");
            foreach (var p in g.Parameters)
                if (!seen.Add(p)) throw new ArgumentException($"parameter {p} appears in more than one group");
        }
        Groups = groups;
        Beta1 = beta1;
        Beta2 = beta2;
        Eps = eps;
        _states = groups.Select(g => g.Parameters.Select(p => new AdamWState(p)).ToArray()).ToArray();
        _frozen = new bool[groups.Count];
    }

    public IReadOnlyList<ParameterGroup> Groups { get; }

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Eps { get; }

    /// <summary>Every parameter's state, group by group in parameter order.</summary>
    public IEnumerable<AdamWState> States => _states.SelectMany(s => s);

    /// <summary>Parameters of the groups that are not frozen.</summary>
    public IEnumerable<Tensor> TrainableParameters => Groups.Where((_, i) => !_frozen[i]).SelectMany(g => g.Parameters);

    public bool IsFrozen(string group) => _frozen[IndexOf(group)];

    /// <summary>A frozen group keeps its weights and moments; its gradients are still cleared by ZeroGrad.</summary>
    public void Freeze(string group, bool frozen = true) => _frozen[IndexOf(group)] = frozen;

    /// <summary>One update of every trainable parameter that has a gradient, at lr = group.LearningRate · lrScale.</summary>
    public void Step(double lrScale = 1)
    {
        for (int gi = 0; gi < _states.Length; gi++)
        {
            if (_frozen[gi]) continue;
            var group = Groups[gi];
            double lr = group.LearningRate * lrScale;
            foreach (var s in _states[gi])
            {
                if (s.Parameter.Grad is not { } grad) continue;
                s.Step++;
                var c = AdamWCoefficients.At(s.Step, lr, group.WeightDecay, Beta1, Beta2, Eps);
                OptimizerKernels.AdamW(s.Parameter.Data, grad, s.ExpAvg, s.ExpAvgSq, c);
            }
        }
    }

    /// <summary>Clears every group's gradients (frozen ones too, so a gradient never leaks into a later stage).</summary>
    public void ZeroGrad()
    {
        foreach (var g in Groups)
            foreach (var p in g.Parameters) p.ZeroGrad();
    }

    private int IndexOf(string group)
    {
        for (int i = 0; i < Groups.Count; i++)
            if (Groups[i].Name == group) return i;
        throw new ArgumentException($"no parameter group named '{group}' (have {string.Join(", ", Groups.Select(g => g.Name))})");
    }
}
