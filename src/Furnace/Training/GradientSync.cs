// The gradient sum of data-parallel training: after every rank's backward pass, each trainable parameter's Grad
// becomes the sum of that Grad over the ranks. The gradients are streamed through one bucket (small ones packed
// together: one collective per bucket instead of one per tensor; a large one split over several buckets), so no
// collective carries more than BucketFloats and the ordered reduction's gather buffer stays N x bucket. A
// parameter that no rank's backward reached keeps a null Grad everywhere (AdamW then skips it, as in one process);
// one reached on some ranks only gets a zero Grad on the others first. Buffers are allocated once.
using Furnace.Distributed;
using Furnace.Tensors.Autograd;

namespace Furnace.Training;

public sealed class GradientSync
{
    /// <summary>4 Mi floats (16 MiB) per collective: large enough to reach the network's bandwidth, small enough to
    /// bound the gather buffer of the ordered reduction (N x bucket).</summary>
    public const int BucketFloats = 1 << 22;

    private readonly ICommunicator _comm;
    private readonly Tensor[] _parameters;
    private readonly double[] _reached;
    private readonly float[] _bucket;
    private readonly List<(Tensor Parameter, int Offset, int Length)> _inBucket = [];

    public GradientSync(ICommunicator comm, IReadOnlyList<Tensor> parameters, int bucketFloats = BucketFloats)
    {
        ArgumentNullException.ThrowIfNull(comm);
        ArgumentNullException.ThrowIfNull(parameters);
        if (bucketFloats < 1) throw new ArgumentOutOfRangeException(nameof(bucketFloats));
        _comm = comm;
        _parameters = [.. parameters];
        _reached = new double[_parameters.Length];
        _bucket = new float[Math.Min(bucketFloats, Math.Max(1, _parameters.Sum(p => p.Length)))];
    }

    /// <summary>Sums every parameter's Grad across the ranks (all ranks call it after their backward passes).</summary>
    public void Sum()
    {
        for (int i = 0; i < _parameters.Length; i++) _reached[i] = _parameters[i].Grad != null ? 1 : 0;
        _comm.SumInPlace(_reached, "gradient presence sum");
        int used = 0;
        for (int i = 0; i < _parameters.Length; i++)
        {
            if (_reached[i] == 0) continue;
            Tensor p = _parameters[i];
            float[] grad = p.EnsureGrad();
            for (int offset = 0; offset < grad.Length;)
            {
                if (used == _bucket.Length) used = Flush(used);
                int n = Math.Min(grad.Length - offset, _bucket.Length - used);
                grad.AsSpan(offset, n).CopyTo(_bucket.AsSpan(used));
                _inBucket.Add((p, offset, n));
                used += n;
                offset += n;
            }
        }
        Flush(used);
    }

    private int Flush(int used)
    {
        if (used == 0) return 0;
        _comm.SumInPlace(_bucket, used, $"gradient sum of a bucket of {_inBucket.Count} tensors ({_inBucket[0].Parameter.Name}…)");
        int at = 0;
        foreach (var (p, offset, n) in _inBucket)
        {
            _bucket.AsSpan(at, n).CopyTo(p.Grad.AsSpan(offset));
            at += n;
        }
        _inBucket.Clear();
        return 0;
    }
}
