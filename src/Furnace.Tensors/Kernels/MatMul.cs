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
        if (w.Type is DType.Q8_0 or DType.Q4_0)
        {
            int nb = w.Cols / 32;
            byte[] xq = new byte[nb * BlockQ8_0.Size];
            for (int i = 0; i < t; i++)
            {
                Quantize.Row(xq, x.Slice(i * w.Cols, w.Cols), DType.Q8_0);
                fixed (byte* xp = xq)
                {
                    for (int r = 0; r < w.Rows; r++)
                    {
                        float sum = 0;
                        for (int b = 0; b < nb; b++)
                        {
                            var xb = (BlockQ8_0*)(xp + b * BlockQ8_0.Size);
                            int si = 0;
                            float dw;
                            if (w.Type == DType.Q8_0)
                            {
                                var wb = (BlockQ8_0*)(w.Row(r) + b * BlockQ8_0.Size);
                                dw = (float)wb->D;
                                for (int j = 0; j < 32; j++) si += wb->Qs[j] * xb->Qs[j];
                            }
                            else
                            {
                                var wb = (BlockQ4_0*)(w.Row(r) + b * BlockQ4_0.Size);
                                dw = (float)wb->D;
                                for (int j = 0; j < 16; j++) si += ((wb->Qs[j] & 15) - 8) * xb->Qs[j] + ((wb->Qs[j] >> 4) - 8) * xb->Qs[j + 16];
                            }
                            sum += si * (dw * (float)xb->D);
                        }
                        y[i * w.Rows + r] = sum;
                    }
                }
            }
            return;
        }
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
