// Matrix multiplication against stored weights: Y (t, rows) = X (t, cols) @ W^T, W (rows, cols) in any DType.
// t == 1 is the decode GEMV; t > 1 the prefill GEMM.
namespace Furnace.Tensors;

public static unsafe class MatMul
{
    // y (t, w.Rows) = x (t, w.Cols) @ w^T
    public static void Forward(Span<float> y, ReadOnlySpan<float> x, int t, WeightMatrix w, KernelContext ctx)
    {
        if (x.Length < (long)t * w.Cols) throw new ArgumentException($"x holds {x.Length} floats, need {t}x{w.Cols}");
        if (y.Length < (long)t * w.Rows) throw new ArgumentException($"y holds {y.Length} floats, need {t}x{w.Rows}");
        float[] row = new float[w.Cols];
        for (int r = 0; r < w.Rows; r++)
        {
            Dequantize.Row(row, w, r);
            for (int i = 0; i < t; i++)
            {
                ReadOnlySpan<float> xi = x.Slice(i * w.Cols, w.Cols);
                double s = 0;
                for (int k = 0; k < w.Cols; k++) s += row[k] * xi[k];
                y[i * w.Rows + r] = (float)s;
            }
        }
    }
}
