// Scalar reference twins of the optimized kernels, written straight from the formulas (ggml reference C code,
// llama2.c run.c) in double where the kernel uses f32, plus seeded data helpers. Tests compare kernels to these.
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

internal static class Reference
{
    public static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    // ggml-cpu quantize_row_q8_0 (x86): d = f16(amax/127), id = amax != 0 ? 127/amax : 0, q = round-half-even(x*id)
    public static (sbyte[] Q, float[] D) ActivationQ8(ReadOnlySpan<float> x)
    {
        int nb = x.Length / 32;
        var q = new sbyte[x.Length];
        var d = new float[nb];
        for (int b = 0; b < nb; b++)
        {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.Max(amax, Math.Abs(x[b * 32 + j]));
            d[b] = (float)(Half)(amax / 127f);
            float id = amax != 0 ? 127f / amax : 0f;
            for (int j = 0; j < 32; j++) q[b * 32 + j] = (sbyte)MathF.Round(x[b * 32 + j] * id, MidpointRounding.ToEven);
        }
        return (q, d);
    }

    // y (t, rows) = x (t, cols) @ W^T with llama.cpp's operand rounding; also returns sum |terms| per output for tolerances
    public static (double[] Y, double[] Mag) MatMul(WeightMatrix wm, float[] x, int t)
    {
        int rows = wm.Rows, cols = wm.Cols;
        DType type = wm.Type;
        var y = new double[t * rows];
        var mag = new double[t * rows];
        var deq = new float[cols];
        for (int i = 0; i < t; i++)
        {
            ReadOnlySpan<float> xi = x.AsSpan(i * cols, cols);
            (sbyte[] q, float[] d) = ActivationQ8(xi);
            for (int r = 0; r < rows; r++)
            {
                double s = 0, m = 0;
                if (type is DType.Q8_0 or DType.Q4_0)
                {
                    int bb = DTypes.BlockBytes(type);
                    for (int b = 0; b < cols / 32; b++)
                    {
                        var enc = RowBytes(wm, r);
                        int off = b * bb;
                        float dw = (float)BitConverter.ToHalf(enc.Slice(off, 2));
                        int isum = 0, iabs = 0;
                        for (int j = 0; j < 32; j++)
                        {
                            int wq = type == DType.Q8_0
                                ? (sbyte)enc[off + 2 + j]
                                : (j < 16 ? enc[off + 2 + j] & 0x0F : enc[off + 2 + j - 16] >> 4) - 8;
                            isum += wq * q[b * 32 + j];
                            iabs += Math.Abs(wq * q[b * 32 + j]);
                        }
                        float scale = dw * d[b];
                        s += isum * (double)scale;
                        m += iabs * Math.Abs((double)scale);
                    }
                }
                else
                {
                    Dequantize.Row(deq, wm, r);
                    for (int k = 0; k < cols; k++)
                    {
                        double xv = type switch
                        {
                            DType.F16 => (double)(float)(Half)xi[k],
                            DType.BF16 => BitConverter.Int32BitsToSingle(Quantize.ToBF16(xi[k]) << 16),
                            _ => xi[k],
                        };
                        s += deq[k] * xv;
                        m += Math.Abs(deq[k] * xv);
                    }
                }
                y[i * rows + r] = s;
                mag[i * rows + r] = m;
            }
        }
        return (y, mag);
    }

    private static ReadOnlySpan<byte> RowBytes(WeightMatrix w, int r) => w.RowSpan(r);

    // llama2.c attention: q (t, nHead*hd), caches (pos, nKv*hd) -> out (t, nHead*hd), in double
    public static double[] Attention(float[] q, float[] k, float[] v, int startPos, int t, int nHead, int nKv, int hd)
    {
        int qDim = nHead * hd, kvDim = nKv * hd, group = nHead / nKv;
        var o = new double[t * qDim];
        for (int i = 0; i < t; i++)
        for (int h = 0; h < nHead; h++)
        {
            int n = startPos + i + 1, kvh = h / group;
            var s = new double[n];
            double max = double.NegativeInfinity;
            for (int p = 0; p < n; p++)
            {
                double dot = 0;
                for (int d = 0; d < hd; d++) dot += (double)q[i * qDim + h * hd + d] * k[p * kvDim + kvh * hd + d];
                s[p] = dot / Math.Sqrt(hd);
                max = Math.Max(max, s[p]);
            }
            double sum = 0;
            for (int p = 0; p < n; p++) { s[p] = Math.Exp(s[p] - max); sum += s[p]; }
            for (int p = 0; p < n; p++)
            for (int d = 0; d < hd; d++) o[i * qDim + h * hd + d] += s[p] / sum * v[p * kvDim + kvh * hd + d];
        }
        return o;
    }

    // ViT attention without a mask: each sequence of seqLen rows attends to itself only, in double
    public static double[] BidirectionalAttention(float[] q, float[] k, float[] v, int batch, int seqLen, int nHead, int hd)
    {
        int dim = nHead * hd;
        var o = new double[batch * seqLen * dim];
        var s = new double[seqLen];
        for (int b = 0; b < batch; b++)
        for (int i = 0; i < seqLen; i++)
        for (int h = 0; h < nHead; h++)
        {
            int row = b * seqLen + i;
            double max = double.NegativeInfinity, sum = 0;
            for (int p = 0; p < seqLen; p++)
            {
                double d = 0;
                for (int j = 0; j < hd; j++) d += (double)q[row * dim + h * hd + j] * k[(b * seqLen + p) * dim + h * hd + j];
                s[p] = d / Math.Sqrt(hd);
                max = Math.Max(max, s[p]);
            }
            for (int p = 0; p < seqLen; p++) { s[p] = Math.Exp(s[p] - max); sum += s[p]; }
            for (int p = 0; p < seqLen; p++)
                for (int j = 0; j < hd; j++) o[row * dim + h * hd + j] += s[p] / sum * v[(b * seqLen + p) * dim + h * hd + j];
        }
        return o;
    }
}
