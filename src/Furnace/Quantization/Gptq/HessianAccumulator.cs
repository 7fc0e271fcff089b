// H = 2 X Xᵀ / N over the N calibration rows x (cols,) that enter one linear layer: the Hessian of the layer-wise
// objective ‖WX − ŴX‖² (GPTQ Section 3, "Optimal Brain Quantization"; gptq.py add_batch). The reference divides by the
// number of sequences, we by the number of token rows; GPTQ is invariant to the scale of H (the dampening is relative).
// Sums are kept in double: a float sum over thousands of rows loses the small eigenvalues the Cholesky needs.
using System.Numerics;

namespace Furnace.Quantization.Gptq;

public sealed class HessianAccumulator
{
    private readonly double[] _sum; // (cols, cols), upper triangle (row i from column i) of Σ x xᵀ
    private double[] _rows = [];    // (n, cols) the current batch widened to double

    public HessianAccumulator(int cols)
    {
        if (cols <= 0) throw new ArgumentOutOfRangeException(nameof(cols), cols, "must be positive");
        Cols = cols;
        _sum = new double[(long)cols * cols];
    }

    public int Cols { get; }

    /// <summary>Token rows added so far (N).</summary>
    public long Count { get; private set; }

    /// <summary>Adds n rows x (n, cols), row-major.</summary>
    public void Add(ReadOnlySpan<float> x, int n)
    {
        int cols = Cols;
        if (x.Length < (long)n * cols) throw new ArgumentException($"x holds {x.Length} floats, need {n}x{cols}");
        if (_rows.Length < n * cols) _rows = new double[n * cols];
        for (int i = 0; i < n * cols; i++) _rows[i] = x[i];
        double[] rows = _rows, sum = _sum;
        // row i of the upper triangle: sum[i, i..] += Σ_t x[t, i] · x[t, i..]
        Parallel.For(0, cols, i =>
        {
            Span<double> dst = sum.AsSpan(i * cols + i, cols - i);
            for (int t = 0; t < n; t++)
            {
                double xi = rows[t * cols + i];
                if (xi != 0) Axpy(dst, xi, rows.AsSpan(t * cols + i, cols - i));
            }
        });
        Count += n;
    }

    /// <summary>H (cols, cols) = 2 Σ x xᵀ / N, both triangles; zero when nothing was added.</summary>
    public double[] Hessian()
    {
        int cols = Cols;
        var h = new double[(long)cols * cols];
        double s = Count > 0 ? 2.0 / Count : 0;
        for (int i = 0; i < cols; i++)
        {
            for (int j = i; j < cols; j++)
            {
                double v = _sum[i * cols + j] * s;
                h[i * cols + j] = v;
                h[j * cols + i] = v;
            }
        }
        return h;
    }

    // dst += a · x
    internal static void Axpy(Span<double> dst, double a, ReadOnlySpan<double> x)
    {
        int i = 0;
        if (Vector.IsHardwareAccelerated)
        {
            var va = new Vector<double>(a);
            for (; i <= dst.Length - Vector<double>.Count; i += Vector<double>.Count)
                (new Vector<double>(dst.Slice(i)) + va * new Vector<double>(x.Slice(i))).CopyTo(dst.Slice(i));
        }
        for (; i < dst.Length; i++) dst[i] += a * x[i];
    }
}
