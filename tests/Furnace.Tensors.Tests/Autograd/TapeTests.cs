// The tape's bookkeeping: which tensors get gradient buffers, what gets recorded, accumulation across Backward calls,
// the pool and the lifetime of op outputs, and the documented edge cases (all targets ignored, dropout p = 0).
using Furnace.Tensors.Autograd;

namespace Furnace.Tensors.Tests.Autograd;

public sealed class TapeTests
{
    private static float[] Grad(Tensor t) => (float[])(t.Grad ?? throw new InvalidOperationException($"{t} has no gradient")).Clone();

    // x -> Linear(w) -> RmsNorm(frozen g) -> SiluMul -> CrossEntropy; w trainable, x and g frozen
    private static Tensor Loss(Tape tape, Tensor x, Tensor w, Tensor g, Tensor up)
    {
        Tensor h = tape.RmsNorm(tape.Linear(x, w), g, 1e-5f);
        return tape.CrossEntropy(tape.SiluMul(h, up), [1, 4, -100, 0]);
    }

    [Fact]
    public void Backward_FrozenInputs_GetNoGradBuffer()
    {
        using var ctx = new KernelContext(2);
        var tape = new Tape(ctx);
        Tensor x = new([4, 6], Reference.Random(24, 1)), g = new([5], Reference.Random(5, 2)), up = new([4, 5], Reference.Random(20, 3));
        Tensor w = Tensor.Parameter("w", [5, 6], Reference.Random(30, 4));
        tape.Backward(Loss(tape, x, w, g, up));
        Assert.NotNull(w.Grad);
        Assert.Contains(w.Grad!, v => v != 0);
        Assert.Null(x.Grad);
        Assert.Null(g.Grad);
        Assert.Null(up.Grad);
    }

    [Fact]
    public void Forward_FrozenOnlyInputs_RecordsNothing()
    {
        using var ctx = new KernelContext(1);
        var tape = new Tape(ctx);
        Tensor x = new([4, 6], Reference.Random(24, 1)), w = new([5, 6], Reference.Random(30, 4));
        Tensor g = new([5], Reference.Random(5, 2)), up = new([4, 5], Reference.Random(20, 3));
        Tensor loss = Loss(tape, x, w, g, up);
        Assert.Equal(0, tape.RecordedSteps);
        tape.Backward(loss); // a no-op, not an error
        Assert.Null(w.Grad);
        Assert.Null(x.Grad);
    }

    [Fact]
    public void Forward_Disabled_RecordsNothingForTrainableInputs()
    {
        using var ctx = new KernelContext(1);
        var tape = new Tape(ctx) { Enabled = false };
        Tensor w = Tensor.Parameter("w", [5, 6], Reference.Random(30, 4));
        Tensor y = tape.Linear(new Tensor([4, 6], Reference.Random(24, 1)), w);
        Assert.Equal(0, tape.RecordedSteps);
        tape.Backward(tape.Sum(y));
        Assert.Null(w.Grad);
    }

    [Fact]
    public void Backward_TwoCalls_AccumulatesDoubleGradient()
    {
        using var ctx = new KernelContext(2);
        var tape = new Tape(ctx);
        Tensor x = new([4, 6], Reference.Random(24, 1)), g = new([5], Reference.Random(5, 2));
        Tensor up = Tensor.Parameter("up", [4, 5], Reference.Random(20, 3));
        Tensor w = Tensor.Parameter("w", [5, 6], Reference.Random(30, 4));
        tape.Backward(Loss(tape, x, w, g, up));
        float[] once = Grad(w), onceUp = Grad(up);
        tape.Backward(Loss(tape, x, w, g, up));
        for (int i = 0; i < once.Length; i++) Assert.Equal(2 * once[i], w.Grad![i], 6);
        for (int i = 0; i < onceUp.Length; i++) Assert.Equal(2 * onceUp[i], up.Grad![i], 6);
        w.ZeroGrad();
        up.ZeroGrad();
        tape.Backward(Loss(tape, x, w, g, up));
        Assert.Equal(once, w.Grad!);
        Assert.Equal(onceUp, up.Grad!);
    }

    [Fact]
    public void Backward_RepeatedSteps_ReusesPooledArraysAndKeepsLossUntilNextForward()
    {
        using var ctx = new KernelContext(1);
        var tape = new Tape(ctx);
        Tensor x = new([4, 6], Reference.Random(24, 1)), g = new([5], Reference.Random(5, 2)), up = new([4, 5], Reference.Random(20, 3));
        Tensor w = Tensor.Parameter("w", [5, 6], Reference.Random(30, 4));
        Tensor first = Loss(tape, x, w, g, up);
        float value = first.Data[0];
        Tensor hidden = tape.Linear(x, w);
        tape.Backward(first);
        Assert.Equal(value, first.Data[0]); // still readable after Backward
        Assert.Null(hidden.Grad);           // non-leaf gradients are released

        var fresh = new Tape(ctx);
        float[] data = fresh.Linear(x, w).Data; // the only (4, 5) array this tape has rented
        fresh.Reset();
        Assert.Same(data, fresh.Linear(x, w).Data); // handed back by the pool
        fresh.Reset();
    }

    [Fact]
    public void Reset_SizeUnusedForThreeSteps_LeavesThePool()
    {
        using var ctx = new KernelContext(1);
        var tape = new Tape(ctx);
        Tensor w = new([5, 6], Reference.Random(30, 4));
        tape.Linear(new Tensor([4, 6], Reference.Random(24, 1)), w); // (4, 5): 20 floats
        tape.Reset();
        Assert.True(tape.Pools(20));
        for (int step = 0; step < 3; step++)
        {
            tape.Linear(new Tensor([3, 6], Reference.Random(18, 1)), w); // (3, 5): another sequence length
            tape.Reset();
        }
        Assert.False(tape.Pools(20));
        Assert.True(tape.Pools(15));
    }

    [Fact]
    public void Backward_NonScalarLoss_Throws()
    {
        using var ctx = new KernelContext(1);
        var tape = new Tape(ctx);
        Tensor w = Tensor.Parameter("w", [2, 3], Reference.Random(6, 4));
        Assert.Throws<ArgumentException>(() => tape.Backward(tape.Scale(w, 2f)));
        Assert.Equal(0, tape.RecordedSteps); // the tape is cleared even so
    }

    [Fact]
    public void CrossEntropy_AllRowsIgnored_ZeroLossAndZeroGradient()
    {
        using var ctx = new KernelContext(1);
        var tape = new Tape(ctx);
        Tensor z = Tensor.Parameter("z", [3, 7], Reference.Random(21, 1, 3f));
        Tensor loss = tape.CrossEntropy(z, [-100, -100, -100]);
        Assert.Equal(0f, loss.Data[0]);
        tape.Backward(loss);
        Assert.All(z.Grad ?? new float[21], v => Assert.Equal(0f, v));
    }

    [Fact]
    public void CrossEntropy_LargeLogits_MatchesLogSumExpReference()
    {
        using var ctx = new KernelContext(2);
        var tape = new Tape(ctx) { Enabled = false };
        float[] z = Reference.Random(4 * 37, 5, 50f);
        z[3] = 1000f; // exp would overflow without the max shift
        int[] targets = [3, -1, 36, 0];
        Tensor loss = tape.CrossEntropy(new Tensor([4, 37], z), targets, ignoreIndex: -1);
        double total = 0;
        int count = 0;
        for (int i = 0; i < 4; i++)
        {
            if (targets[i] == -1) continue;
            double max = z.Skip(i * 37).Take(37).Max();
            double lse = max + Math.Log(z.Skip(i * 37).Take(37).Sum(v => Math.Exp(v - max)));
            total += lse - z[i * 37 + targets[i]];
            count++;
        }
        Assert.True(Math.Abs(loss.Data[0] - total / count) <= 1e-5 * Math.Max(1, Math.Abs(total / count)), $"{loss.Data[0]} vs {total / count}");
    }

    [Fact]
    public void Dropout_ZeroProbability_ReturnsInput()
    {
        using var ctx = new KernelContext(1);
        var tape = new Tape(ctx);
        Tensor x = Tensor.Parameter("x", [2, 3], Reference.Random(6, 1));
        Assert.Same(x, tape.Dropout(x, 0f, new Random(1)));
    }

    [Fact]
    public void Dropout_HalfProbability_ZeroesAboutHalfAndScalesTheRest()
    {
        using var ctx = new KernelContext(1);
        var tape = new Tape(ctx) { Enabled = false };
        float[] ones = Enumerable.Repeat(1f, 10000).ToArray();
        Tensor y = tape.Dropout(new Tensor([100, 100], ones), 0.5f, new Random(3));
        int zeros = y.Data.Count(v => v == 0);
        Assert.All(y.Data, v => Assert.True(v == 0 || v == 2f));
        Assert.InRange(zeros, 4800, 5200);
    }
}
