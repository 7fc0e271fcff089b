// Finite-difference gradient check for tape ops: the tape's gradients of L = Σ out ⊙ r (r fixed, seeded) against
// central differences (L(x + h) − L(x − h)) / 2h, where L is accumulated in double from the float op's outputs.
// Error measure: max |grad − fd| over all elements of an input, divided by max |fd| of that input (so a tolerance is
// a fraction of the gradient's scale, robust to elements whose gradient is near zero).
using Furnace.Tensors.Autograd;

namespace Furnace.Tensors.Tests.Autograd;

internal static class GradCheck
{
    public static void Run(Func<Tape, Tensor> forward, Tensor[] inputs, double h, double tol, int threads = 2)
    {
        using var ctx = new KernelContext(threads);
        var tape = new Tape(ctx);
        Tensor output = forward(tape);
        float[] r = Reference.Random(output.Length, 4242);
        tape.Backward(tape.Sum(tape.Mul(output, new Tensor((int[])output.Shape.Clone(), r))));
        var grads = inputs.Select(t => (float[])(t.Grad ?? throw new InvalidOperationException($"{t} got no gradient")).Clone()).ToArray();

        var eval = new Tape(ctx) { Enabled = false };
        double Loss()
        {
            Tensor o = forward(eval);
            double s = 0;
            for (int j = 0; j < o.Length; j++) s += (double)o.Data[j] * r[j];
            return s;
        }

        for (int k = 0; k < inputs.Length; k++)
        {
            float[] x = inputs[k].Data;
            var fd = new double[x.Length];
            for (int i = 0; i < x.Length; i++)
            {
                float v = x[i];
                x[i] = (float)(v + h);
                double hp = x[i] - v; // the step actually taken in float
                double lp = Loss();
                x[i] = (float)(v - h);
                double hm = v - x[i];
                double lm = Loss();
                x[i] = v;
                fd[i] = (lp - lm) / (hp + hm);
            }
            double scale = Math.Max(fd.Max(Math.Abs), 1e-6), err = 0;
            int worst = 0;
            for (int i = 0; i < x.Length; i++)
            {
                double e = Math.Abs(grads[k][i] - fd[i]);
                if (e > err) { err = e; worst = i; }
            }
            Assert.True(err / scale <= tol,
                $"input {k} {inputs[k]}: max |grad - fd| / max |fd| = {err / scale:E3} > {tol:E1} (element {worst}: grad {grads[k][worst]}, fd {fd[worst]})");
        }
    }

    public static Tensor Param(int[] shape, int seed, float scale = 1f) =>
        new(shape, Reference.Random(shape.Aggregate(1, (a, b) => a * b), seed, scale), requiresGrad: true);
}
