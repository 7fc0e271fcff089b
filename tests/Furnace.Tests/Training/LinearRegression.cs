// A hand-differentiated model for the trainer tests (no autograd): y = W·dropout(x) + b with mean squared error,
// its gradients written straight into Tensor.Grad. The dropout mask comes from the run's TrainingRandom, so a
// resume that did not restore the random state would show in the losses.
using Furnace.Tensors.Autograd;
using Furnace.Training;

namespace Furnace.Tests.Training;

public sealed record Sample(float[] X, float[] Y);

public sealed class LinearRegression : ITrainingObjective<IReadOnlyList<Sample>>
{
    public const int In = 4, Out = 3;
    private readonly TrainingRandom _rng;
    private readonly float _dropout;
    private float[] _x = [], _r = [];
    private int _n;

    public LinearRegression(TrainingRandom rng, float dropout, int initSeed)
    {
        _rng = rng;
        _dropout = dropout;
        var init = new Random(initSeed);
        Weight = Tensor.Parameter("linear.weight", [Out, In], Enumerable.Range(0, Out * In).Select(_ => (float)init.NextDouble() - 0.5f).ToArray());
        Bias = Tensor.Parameter("linear.bias", [Out], new float[Out]);
    }

    public Tensor Weight { get; }

    public Tensor Bias { get; }

    public ParameterGroup[] Groups(float lr = 0.05f) =>
    [
        new ParameterGroup("weight", [Weight]) { LearningRate = lr, WeightDecay = 0.01f },
        new ParameterGroup("bias", [Bias]) { LearningRate = lr },
    ];

    public static Sample[] Data(int count, int seed)
    {
        var rng = new Random(seed);
        float[] w = [0.5f, -1f, 2f, 0.25f, 1.5f, 0.3f, -0.7f, 1f, -2f, 0.1f, 0.4f, -0.3f];
        float[] b = [0.3f, -0.2f, 1f];
        return Enumerable.Range(0, count).Select(_ =>
        {
            float[] x = Enumerable.Range(0, In).Select(_ => (float)rng.NextDouble() * 2 - 1).ToArray();
            float[] y = new float[Out];
            for (int i = 0; i < Out; i++)
            {
                y[i] = b[i] + (float)(rng.NextDouble() - 0.5) * 0.02f;
                for (int j = 0; j < In; j++) y[i] += w[i * In + j] * x[j];
            }
            return new Sample(x, y);
        }).ToArray();
    }

    public Tensor Loss(Tape tape, IReadOnlyList<Sample> batch)
    {
        _n = batch.Count;
        _x = new float[_n * In];
        _r = new float[_n * Out];
        double sum = 0;
        for (int s = 0; s < _n; s++)
        {
            for (int j = 0; j < In; j++)
            {
                float x = batch[s].X[j];
                if (tape.Enabled && _dropout > 0) x = _rng.NextSingle() < _dropout ? 0 : x / (1 - _dropout);
                _x[s * In + j] = x;
            }
            for (int i = 0; i < Out; i++)
            {
                float p = Bias.Data[i];
                for (int j = 0; j < In; j++) p += Weight.Data[i * In + j] * _x[s * In + j];
                float r = p - batch[s].Y[i];
                _r[s * Out + i] = r;
                sum += r * r;
            }
        }
        return new Tensor([1], [(float)(sum / (_n * Out))]);
    }

    public BatchCounts Count(IReadOnlyList<Sample> batch) => new(batch.Count, 0);

    // d/dW mean(r²) = 2/(n·Out) Σ r xᵀ, d/db = 2/(n·Out) Σ r
    public void Backward(Tape tape, Tensor loss, float scale)
    {
        float[] gw = Weight.EnsureGrad(), gb = Bias.EnsureGrad();
        float c = scale * 2f / (_n * Out);
        for (int s = 0; s < _n; s++)
            for (int i = 0; i < Out; i++)
            {
                float r = c * _r[s * Out + i];
                gb[i] += r;
                for (int j = 0; j < In; j++) gw[i * In + j] += r * _x[s * In + j];
            }
    }
}
