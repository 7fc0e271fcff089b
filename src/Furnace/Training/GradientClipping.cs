// Gradient clipping by global norm, torch.nn.utils.clip_grad_norm_ (torch 1.13, norm_type 2, error_if_nonfinite
// False): total = ‖(‖g₁‖, ‖g₂‖, …)‖₂ over the gradients present; every gradient is multiplied by
// min(1, maxNorm / (total + 1e-6)). Norms accumulate in double; a non-finite total is returned as is (the caller
// decides), and then the gradients are scaled by NaN exactly as torch would.
using Furnace.Tensors;
using Furnace.Tensors.Autograd;

namespace Furnace.Training;

public static class GradientClipping
{
    /// <summary>The global L2 norm of the gradients (tensors without a gradient count as zero).</summary>
    public static double GlobalNorm(IEnumerable<Tensor> parameters)
    {
        double sum = 0;
        foreach (var p in parameters)
            if (p.Grad is { } g) sum += OptimizerKernels.SumOfSquares(g);
        return Math.Sqrt(sum);
    }

    /// <summary>Scales gradients so their global norm is at most maxNorm; returns the norm before clipping.</summary>
    public static double ClipByGlobalNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "max norm must be > 0");
        double total = GlobalNorm(parameters);
        double coef = Math.Min(1.0, maxNorm / (total + 1e-6));
        if (coef < 1 || double.IsNaN(coef))
            foreach (var p in parameters)
                if (p.Grad is { } g) OptimizerKernels.Scale(g, (float)coef);
        return total;
    }
}
