// The scalars of one AdamW step for one parameter group, computed once per step in double (as torch does in Python)
// and rounded to float, the precision the element-wise kernel runs at.
namespace Furnace.Tensors;

public readonly record struct AdamWCoefficients(float Decay, float Beta1, float OneMinusBeta1, float Beta2, float OneMinusBeta2, float StepSize, float Bc2Sqrt, float Eps)
{
    /// <summary>torch.optim.AdamW at step t (1-based) with learning rate lr: decay = 1 − lr·wd, stepSize = lr / (1 − β1^t), bc2Sqrt = sqrt(1 − β2^t).</summary>
    public static AdamWCoefficients At(long t, double lr, double weightDecay, double beta1, double beta2, double eps)
    {
        if (t < 1) throw new ArgumentOutOfRangeException(nameof(t), t, "AdamW steps count from 1");
        double bc1 = 1 - Math.Pow(beta1, t), bc2 = 1 - Math.Pow(beta2, t);
        return new AdamWCoefficients((float)(1 - lr * weightDecay), (float)beta1, (float)(1 - beta1), (float)beta2, (float)(1 - beta2),
            (float)(lr / bc1), (float)Math.Sqrt(bc2), (float)eps);
    }
}
