// Bilinear resize of a channels-last feature map as PyTorch's F.interpolate(mode="bilinear", align_corners=False,
// antialias=False) computes it (aten UpSampleKernel: area_pixel_compute_source_index): per output index o,
//   src = max((o + 0.5)·in/out - 0.5, 0), i0 = floor(src), i1 = min(i0 + 1, in - 1), weights (1 - f, f), f = src - i0
// along each axis; no antialiasing, so downscaling samples as well. Each output pixel is the weighted sum of four
// input rows of `channels` floats (SIMD axpy); parallel over output rows. Linear1D is the same rule on one axis, as
// F.interpolate(mode="linear") resizes get_rel_pos's tables. Coordinates are computed in double.
namespace Furnace.Tensors;

public static unsafe class Bilinear
{
    /// <summary>y (outH·outW, channels) = bilinear resize of x (inH·inW, channels).</summary>
    public static void Resize(Span<float> y, ReadOnlySpan<float> x, int inH, int inW, int outH, int outW, int channels, KernelContext ctx)
    {
        if (inH < 1 || inW < 1 || outH < 1 || outW < 1 || channels < 1)
            throw new ArgumentException($"bilinear resize {inH}x{inW} -> {outH}x{outW} of {channels} channels needs positive sizes");
        if (x.Length < (long)inH * inW * channels) throw new ArgumentException($"input holds {x.Length} floats, need {inH}x{inW}x{channels}");
        if (y.Length < (long)outH * outW * channels) throw new ArgumentException($"output holds {y.Length} floats, need {outH}x{outW}x{channels}");
        fixed (float* py = y, px = x)
        {
            var job = new Job { Y = py, X = px, InH = inH, InW = inW, OutH = outH, OutW = outW, C = channels };
            ctx.Run(ref job, outH);
        }
    }

    /// <summary>Source indices and weights of output index o when resizing n to m (align_corners = False).</summary>
    public static (int I0, int I1, double W0, double W1) Source(int o, int n, int m)
    {
        double src = Math.Max((o + 0.5) * n / m - 0.5, 0);
        int i0 = Math.Min((int)src, n - 1);
        int i1 = i0 < n - 1 ? i0 + 1 : i0;
        double f = src - i0;
        return (i0, i1, 1 - f, f);
    }

    /// <summary>y (m, cols) = linear resize along the rows of x (n, cols), align_corners = False.</summary>
    public static float[] Linear1D(ReadOnlySpan<float> x, int n, int cols, int m)
    {
        if (n < 1 || m < 1 || cols < 1 || x.Length < (long)n * cols) throw new ArgumentException($"linear resize of ({n}, {cols}) to {m} rows needs positive sizes and {n}x{cols} floats");
        var y = new float[m * cols];
        for (int o = 0; o < m; o++)
        {
            var (i0, i1, w0, w1) = Source(o, n, m);
            for (int c = 0; c < cols; c++) y[o * cols + c] = (float)(w0 * x[i0 * cols + c] + w1 * x[i1 * cols + c]);
        }
        return y;
    }

    private struct Job : IParallelJob
    {
        public float* Y, X;
        public int InH, InW, OutH, OutW, C;

        public readonly void Execute(int start, int end, int thread)
        {
            for (int oy = start; oy < end; oy++)
            {
                var (y0, y1, wy0, wy1) = Source(oy, InH, OutH);
                for (int ox = 0; ox < OutW; ox++)
                {
                    var (x0, x1, wx0, wx1) = Source(ox, InW, OutW);
                    float* dst = Y + ((long)oy * OutW + ox) * C;
                    new Span<float>(dst, C).Clear();
                    Vec.Axpy(dst, (float)(wy0 * wx0), X + ((long)y0 * InW + x0) * C, C);
                    Vec.Axpy(dst, (float)(wy0 * wx1), X + ((long)y0 * InW + x1) * C, C);
                    Vec.Axpy(dst, (float)(wy1 * wx0), X + ((long)y1 * InW + x0) * C, C);
                    Vec.Axpy(dst, (float)(wy1 * wx1), X + ((long)y1 * InW + x1) * C, C);
                }
            }
        }
    }
}
