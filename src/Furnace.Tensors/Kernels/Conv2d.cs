// 2-D convolution as PyTorch's nn.Conv2d computes it (groups = 1, dilation 1, square kernel, zero padding), lowered to
// im2col + the float GEMM of MatMul: a chunk of output pixels is unfolded into rows (pixel, in·k·k) in the column order
// of the PyTorch weight (in, ky, kx), so the weight (out, in, k, k) is used in place as the matrix (out, in·k·k), and
//   y (pixels, out) = rows @ W^T (+ bias)
// The output is channels-last (row = output pixel oy·OW + ox), the token layout the ViT towers work in; the input is
// channels-first (C, H, W: pixel values) or channels-last (H·W, C: a token map). Chunks of at most ChunkFloats
// unfolded values live in the context's scratch, so a call allocates nothing; the unfolding runs on the kernel threads.
// ForwardScalar is the direct seven-loop twin in double.
using System.Runtime.CompilerServices;

namespace Furnace.Tensors;

/// <param name="Kernel">square kernel side k.</param>
public readonly record struct Conv2dShape(int InChannels, int Height, int Width, int OutChannels, int Kernel, int Stride, int Padding)
{
    public int OutHeight => (Height + 2 * Padding - Kernel) / Stride + 1;

    public int OutWidth => (Width + 2 * Padding - Kernel) / Stride + 1;

    /// <summary>Values in one unfolded row: in·k·k, the weight matrix's columns.</summary>
    public int Columns => InChannels * Kernel * Kernel;

    public long InputLength => (long)InChannels * Height * Width;

    public long OutputLength => (long)OutHeight * OutWidth * OutChannels;

    public void Validate()
    {
        if (InChannels < 1 || Height < 1 || Width < 1 || OutChannels < 1 || Kernel < 1 || Stride < 1 || Padding < 0)
            throw new ArgumentException($"conv2d shape {this} needs positive sizes and padding >= 0");
        if (Height + 2 * Padding < Kernel || Width + 2 * Padding < Kernel)
            throw new ArgumentException($"conv2d kernel {Kernel} does not fit the padded input {Height}x{Width} (padding {Padding})");
    }
}

public static unsafe class Conv2d
{
    // unfolded floats per chunk (16 MiB): large enough for the GEMM's 128-token path, small enough to stay cached-ish
    private const long ChunkFloats = 4L << 20;

    /// <summary>y (OH·OW, out) = conv2d(x) with weight w (out, in·k·k) and an optional bias (out,) (empty: none).</summary>
    public static void Forward(Span<float> y, ReadOnlySpan<float> x, Conv2dShape s, bool inputChannelsLast, WeightMatrix w,
        ReadOnlySpan<float> bias, KernelContext ctx)
    {
        s.Validate();
        if (w.Rows != s.OutChannels || w.Cols != s.Columns)
            throw new ArgumentException($"conv2d weight is ({w.Rows}, {w.Cols}), shape {s} needs ({s.OutChannels}, {s.Columns})");
        if (x.Length < s.InputLength) throw new ArgumentException($"conv2d input holds {x.Length} floats, need {s.InputLength}");
        if (y.Length < s.OutputLength) throw new ArgumentException($"conv2d output holds {y.Length} floats, need {s.OutputLength}");
        if (bias.Length != 0 && bias.Length != s.OutChannels) throw new ArgumentException($"conv2d bias holds {bias.Length} floats, need {s.OutChannels}");
        int pixels = s.OutHeight * s.OutWidth, cols = s.Columns;
        int chunk = (int)Math.Clamp(ChunkFloats / cols, 1, pixels);
        var rows = (float*)ctx.Scratch(ScratchSlot.Im2Col, (long)chunk * cols * sizeof(float));
        fixed (float* px = x, py = y, pb = bias)
        {
            for (int p0 = 0; p0 < pixels; p0 += chunk)
            {
                int n = Math.Min(chunk, pixels - p0);
                var unfold = new Im2ColJob { X = px, Rows = rows, S = s, ChannelsLast = inputChannelsLast, First = p0 };
                ctx.Run(ref unfold, n, 8);
                MatMul.Forward(new Span<float>(py + (long)p0 * s.OutChannels, n * s.OutChannels), new ReadOnlySpan<float>(rows, n * cols), n, w, ctx);
            }
            if (pb != null)
            {
                var add = new BiasJob { Y = py, B = pb, Cols = s.OutChannels };
                ctx.Run(ref add, pixels, 16);
            }
        }
    }

    /// <summary>The direct convolution in double: y (OH·OW, out) from weight (out, in, k, k) as floats.</summary>
    public static void ForwardScalar(Span<float> y, ReadOnlySpan<float> x, Conv2dShape s, bool inputChannelsLast, ReadOnlySpan<float> weight,
        ReadOnlySpan<float> bias)
    {
        s.Validate();
        int k = s.Kernel, oh = s.OutHeight, ow = s.OutWidth;
        for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++)
        for (int o = 0; o < s.OutChannels; o++)
        {
            double sum = bias.Length != 0 ? bias[o] : 0;
            for (int c = 0; c < s.InChannels; c++)
            for (int ky = 0; ky < k; ky++)
            {
                int iy = oy * s.Stride - s.Padding + ky;
                if (iy < 0 || iy >= s.Height) continue;
                for (int kx = 0; kx < k; kx++)
                {
                    int ix = ox * s.Stride - s.Padding + kx;
                    if (ix < 0 || ix >= s.Width) continue;
                    float v = inputChannelsLast ? x[(iy * s.Width + ix) * s.InChannels + c] : x[(c * s.Height + iy) * s.Width + ix];
                    sum += (double)v * weight[((o * s.InChannels + c) * k + ky) * k + kx];
                }
            }
            y[(oy * ow + ox) * s.OutChannels + o] = (float)sum;
        }
    }

    // Rows[i][(c·k + ky)·k + kx] = x[c, oy·stride - pad + ky, ox·stride - pad + kx] (0 outside), pixel First + i
    private struct Im2ColJob : IParallelJob
    {
        public float* X, Rows;
        public Conv2dShape S;
        public bool ChannelsLast;
        public int First;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end, int thread)
        {
            int k = S.Kernel, cin = S.InChannels, h = S.Height, wd = S.Width, ow = S.OutWidth, cols = S.Columns;
            for (int i = start; i < end; i++)
            {
                int p = First + i, oy = p / ow, ox = p % ow;
                int y0 = oy * S.Stride - S.Padding, x0 = ox * S.Stride - S.Padding;
                float* row = Rows + (long)i * cols;
                bool inside = x0 >= 0 && x0 + k <= wd;
                for (int c = 0; c < cin; c++)
                for (int ky = 0; ky < k; ky++)
                {
                    float* dst = row + (c * k + ky) * k;
                    int iy = y0 + ky;
                    if (iy < 0 || iy >= h)
                    {
                        new Span<float>(dst, k).Clear();
                        continue;
                    }
                    if (!ChannelsLast)
                    {
                        float* src = X + ((long)c * h + iy) * wd;
                        if (inside) new ReadOnlySpan<float>(src + x0, k).CopyTo(new Span<float>(dst, k));
                        else
                            for (int kx = 0; kx < k; kx++)
                            {
                                int ix = x0 + kx;
                                dst[kx] = ix >= 0 && ix < wd ? src[ix] : 0f;
                            }
                    }
                    else
                    {
                        float* src = X + (long)iy * wd * cin + c;
                        for (int kx = 0; kx < k; kx++)
                        {
                            int ix = x0 + kx;
                            dst[kx] = ix >= 0 && ix < wd ? src[(long)ix * cin] : 0f;
                        }
                    }
                }
            }
        }
    }

    private struct BiasJob : IParallelJob
    {
        public float* Y, B;
        public int Cols;

        public readonly void Execute(int start, int end, int thread)
        {
            for (int r = start; r < end; r++) Vec.Add(Y + (long)r * Cols, B, Cols);
        }
    }
}
