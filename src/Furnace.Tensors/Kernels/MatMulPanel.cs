// F32 GEMM against pre-packed weights (PanelMatrix), for every token count from a few on (ViT-B/32's 50 tokens as
// well as ViT-L/14's 577): y (t, rows) = x (t, cols) @ W^T + bias, or y += that (a residual add in the epilogue).
// x is first packed into tiles of 8 tokens, k-major (tile i: cols x 8 floats, [k][j] = x[8i + j][k], missing tokens 0),
// so the micro-kernel reads two contiguous streams: per k, one 32-float weight line pair and 8 token values. A tile
// of 8 tokens x 32 outputs accumulates over all of cols in 16 AVX-512 registers (two weight loads and eight
// broadcasts feed sixteen FMAs, no horizontal sums), then adds the bias (and the old y) once and stores. Threads
// split over 32-row panels; several products of the same x (q, k and v) share one packing and one parallel region.
// Each output is fma(x[k], w[k], acc) summed in k order from 0, then + bias, then + y: ForwardScalar is its twin.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Furnace.Tensors;

public static unsafe class MatMulPanel
{
    public const int TokenTile = 8;

    /// <summary>y (t, w.Rows) = x (t, w.Cols) @ W^T + bias (empty: none); with accumulate, y += that instead.</summary>
    public static void Forward(Span<float> y, ReadOnlySpan<float> x, int t, PanelMatrix w, ReadOnlySpan<float> bias, bool accumulate, KernelContext ctx)
    {
        if (x.Length < (long)t * w.Cols) throw new ArgumentException($"x holds {x.Length} floats, need {t}x{w.Cols}");
        PanelInput input = Pack(x, t, w.Cols, ctx);
        Forward(y, input, w, bias, accumulate, ctx);
    }

    /// <summary>Forward on activations already packed (Input + PackRow, e.g. by a layer norm that writes them).</summary>
    public static void Forward(Span<float> y, PanelInput x, PanelMatrix w, ReadOnlySpan<float> bias, bool accumulate, KernelContext ctx)
    {
        int t = x.T;
        Check(y, x, t, w, bias);
        fixed (float* py = y, pb = bias)
        {
            var job = new Job { T = t, Cols = w.Cols, Accumulate = accumulate, Targets = 1, Xp = x.Data };
            job.Set(0, py, w, bias.IsEmpty ? null : pb);
            ctx.Run(ref job, job.P0);
        }
    }

    /// <summary>Three products of one x (q, k and v projections): y_i = x @ W_i^T + b_i, one packing, one parallel region.</summary>
    public static void Forward3(Span<float> y0, Span<float> y1, Span<float> y2, ReadOnlySpan<float> x, int t,
        PanelMatrix w0, PanelMatrix w1, PanelMatrix w2, ReadOnlySpan<float> b0, ReadOnlySpan<float> b1, ReadOnlySpan<float> b2, KernelContext ctx)
    {
        if (x.Length < (long)t * w0.Cols) throw new ArgumentException($"x holds {x.Length} floats, need {t}x{w0.Cols}");
        PanelInput input = Pack(x, t, w0.Cols, ctx);
        Forward3(y0, y1, y2, input, w0, w1, w2, b0, b1, b2, ctx);
    }

    /// <summary>Forward3 on activations already packed.</summary>
    public static void Forward3(Span<float> y0, Span<float> y1, Span<float> y2, PanelInput x,
        PanelMatrix w0, PanelMatrix w1, PanelMatrix w2, ReadOnlySpan<float> b0, ReadOnlySpan<float> b1, ReadOnlySpan<float> b2, KernelContext ctx)
    {
        int t = x.T;
        Check(y0, x, t, w0, b0);
        Check(y1, x, t, w1, b1);
        Check(y2, x, t, w2, b2);
        fixed (float* py0 = y0, py1 = y1, py2 = y2, pb0 = b0, pb1 = b1, pb2 = b2)
        {
            var job = new Job { T = t, Cols = w0.Cols, Targets = 3, Xp = x.Data };
            job.Set(0, py0, w0, b0.IsEmpty ? null : pb0);
            job.Set(1, py1, w1, b1.IsEmpty ? null : pb1);
            job.Set(2, py2, w2, b2.IsEmpty ? null : pb2);
            ctx.Run(ref job, job.P0 + job.P1 + job.P2);
        }
    }

    /// <summary>
    /// The context's buffer for t rows of cols activations in the packed tile layout (padding rows zeroed). Fill every
    /// row with PanelInput.PackRow (from any thread, each row once), then pass it to Forward / Forward3 before any
    /// other MatMulPanel call on ctx. Not to be called inside a parallel region.
    /// </summary>
    public static PanelInput Input(KernelContext ctx, int t, int cols)
    {
        if (t < 1 || cols < 1) throw new ArgumentOutOfRangeException(nameof(t), $"shape ({t}, {cols}) must be positive");
        int tiles = (t + TokenTile - 1) / TokenTile;
        var xp = (float*)ctx.Scratch(ScratchSlot.MatMulPanelX, (long)tiles * cols * TokenTile * sizeof(float));
        var input = new PanelInput(xp, t, cols);
        for (int tok = t; tok < tiles * TokenTile; tok++) input.ClearRow(tok);
        return input;
    }

    private static PanelInput Pack(ReadOnlySpan<float> x, int t, int cols, KernelContext ctx)
    {
        PanelInput input = Input(ctx, t, cols);
        fixed (float* px = x)
        {
            var pack = new PackXJob { X = px, In = input };
            ctx.Run(ref pack, t, 8);
        }
        return input;
    }

    private static void Check(Span<float> y, PanelInput x, int t, PanelMatrix w, ReadOnlySpan<float> bias)
    {
        if (t < 1) throw new ArgumentOutOfRangeException(nameof(t), t, "token count must be >= 1");
        if (x.Cols != w.Cols) throw new ArgumentException($"packed activations have {x.Cols} columns, the matrix {w.Cols}");
        if (y.Length < (long)t * w.Rows) throw new ArgumentException($"y holds {y.Length} floats, need {t}x{w.Rows}");
        if (!bias.IsEmpty && bias.Length != w.Rows) throw new ArgumentException($"bias holds {bias.Length} floats, need {w.Rows}");
    }

    // rows [start, end) of x into the packed tiles
    private struct PackXJob : IParallelJob
    {
        public float* X;
        public PanelInput In;

        public readonly void Execute(int start, int end, int thread)
        {
            for (int r = start; r < end; r++) In.PackRow(r, new ReadOnlySpan<float>(X + (long)r * In.Cols, In.Cols));
        }
    }

    // items: the panels of target 0, then of target 1, then of target 2
    private struct Job : IParallelJob
    {
        public float* Xp;
        public int T, Cols, Targets;
        public bool Accumulate;
        public float* Y0, Y1, Y2, B0, B1, B2;
        public PanelMatrix? W0, W1, W2;
        public int P0, P1, P2;

        public void Set(int i, float* y, PanelMatrix w, float* b)
        {
            if (i == 0) { Y0 = y; W0 = w; B0 = b; P0 = w.Panels; }
            else if (i == 1) { Y1 = y; W1 = w; B1 = b; P1 = w.Panels; }
            else { Y2 = y; W2 = w; B2 = b; P2 = w.Panels; }
        }

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end, int thread)
        {
            float* tmp = stackalloc float[2 * PanelMatrix.Width];
            int tiles = (T + TokenTile - 1) / TokenTile;
            for (int item = start; item < end; item++)
            {
                int p = item;
                float* y = Y0, b = B0;
                PanelMatrix w = W0!;
                if (p >= P0)
                {
                    p -= P0;
                    y = Y1; b = B1; w = W1!;
                    if (p >= P1) { p -= P1; y = Y2; b = B2; w = W2!; }
                }
                int r0 = p * PanelMatrix.Width, rows = w.Rows, nr = Math.Min(PanelMatrix.Width, rows - r0);
                float* bias = tmp + PanelMatrix.Width; // this panel's 32 bias values, zero where none
                for (int j = 0; j < PanelMatrix.Width; j++) bias[j] = b != null && j < nr ? b[r0 + j] : 0f;
                float* wp = w.Panel(p);
                for (int i = 0; i < tiles; i++)
                {
                    int nt = Math.Min(TokenTile, T - i * TokenTile);
                    float* xt = Xp + (long)i * Cols * TokenTile, yt = y + (long)i * TokenTile * rows + r0;
                    if (nt <= 4) Tile4(xt, wp, Cols, yt, rows, nt, nr, bias, Accumulate, tmp); // a short last tile: half the FMAs
                    else Tile(xt, wp, Cols, yt, rows, nt, nr, bias, Accumulate, tmp);
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)] // own register allocation: 16 accumulators
    private static void Tile(float* xp, float* wp, int cols, float* y, int yStride, int nt, int nr, float* bias, bool accumulate, float* tmp)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        for (int k = 0; k < cols; k++)
        {
            var w0 = Vector512.Load(wp);
            var w1 = Vector512.Load(wp + 16);
            var b = Vector512.Create(xp[0]);
            c00 = Vector512.FusedMultiplyAdd(b, w0, c00); c01 = Vector512.FusedMultiplyAdd(b, w1, c01);
            b = Vector512.Create(xp[1]);
            c10 = Vector512.FusedMultiplyAdd(b, w0, c10); c11 = Vector512.FusedMultiplyAdd(b, w1, c11);
            b = Vector512.Create(xp[2]);
            c20 = Vector512.FusedMultiplyAdd(b, w0, c20); c21 = Vector512.FusedMultiplyAdd(b, w1, c21);
            b = Vector512.Create(xp[3]);
            c30 = Vector512.FusedMultiplyAdd(b, w0, c30); c31 = Vector512.FusedMultiplyAdd(b, w1, c31);
            b = Vector512.Create(xp[4]);
            c40 = Vector512.FusedMultiplyAdd(b, w0, c40); c41 = Vector512.FusedMultiplyAdd(b, w1, c41);
            b = Vector512.Create(xp[5]);
            c50 = Vector512.FusedMultiplyAdd(b, w0, c50); c51 = Vector512.FusedMultiplyAdd(b, w1, c51);
            b = Vector512.Create(xp[6]);
            c60 = Vector512.FusedMultiplyAdd(b, w0, c60); c61 = Vector512.FusedMultiplyAdd(b, w1, c61);
            b = Vector512.Create(xp[7]);
            c70 = Vector512.FusedMultiplyAdd(b, w0, c70); c71 = Vector512.FusedMultiplyAdd(b, w1, c71);
            wp += PanelMatrix.Width;
            xp += TokenTile;
        }
        var bl = Vector512.Load(bias);
        var bh = Vector512.Load(bias + 16);
        Put(y, c00 + bl, c01 + bh, nr, accumulate, tmp);
        if (nt > 1) Put(y + yStride, c10 + bl, c11 + bh, nr, accumulate, tmp);
        if (nt > 2) Put(y + 2 * yStride, c20 + bl, c21 + bh, nr, accumulate, tmp);
        if (nt > 3) Put(y + 3 * yStride, c30 + bl, c31 + bh, nr, accumulate, tmp);
        if (nt > 4) Put(y + 4 * yStride, c40 + bl, c41 + bh, nr, accumulate, tmp);
        if (nt > 5) Put(y + 5 * yStride, c50 + bl, c51 + bh, nr, accumulate, tmp);
        if (nt > 6) Put(y + 6 * yStride, c60 + bl, c61 + bh, nr, accumulate, tmp);
        if (nt > 7) Put(y + 7 * yStride, c70 + bl, c71 + bh, nr, accumulate, tmp);
    }

    // Tile for nt <= 4 tokens (the first 4 of the packed 8), same arithmetic per output
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tile4(float* xp, float* wp, int cols, float* y, int yStride, int nt, int nr, float* bias, bool accumulate, float* tmp)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        for (int k = 0; k < cols; k++)
        {
            var w0 = Vector512.Load(wp);
            var w1 = Vector512.Load(wp + 16);
            var b = Vector512.Create(xp[0]);
            c00 = Vector512.FusedMultiplyAdd(b, w0, c00); c01 = Vector512.FusedMultiplyAdd(b, w1, c01);
            b = Vector512.Create(xp[1]);
            c10 = Vector512.FusedMultiplyAdd(b, w0, c10); c11 = Vector512.FusedMultiplyAdd(b, w1, c11);
            b = Vector512.Create(xp[2]);
            c20 = Vector512.FusedMultiplyAdd(b, w0, c20); c21 = Vector512.FusedMultiplyAdd(b, w1, c21);
            b = Vector512.Create(xp[3]);
            c30 = Vector512.FusedMultiplyAdd(b, w0, c30); c31 = Vector512.FusedMultiplyAdd(b, w1, c31);
            wp += PanelMatrix.Width;
            xp += TokenTile;
        }
        var bl = Vector512.Load(bias);
        var bh = Vector512.Load(bias + 16);
        Put(y, c00 + bl, c01 + bh, nr, accumulate, tmp);
        if (nt > 1) Put(y + yStride, c10 + bl, c11 + bh, nr, accumulate, tmp);
        if (nt > 2) Put(y + 2 * yStride, c20 + bl, c21 + bh, nr, accumulate, tmp);
        if (nt > 3) Put(y + 3 * yStride, c30 + bl, c31 + bh, nr, accumulate, tmp);
    }

    // y[0..nr) = v (or y + v), v = (lo, hi)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put(float* y, Vector512<float> lo, Vector512<float> hi, int nr, bool accumulate, float* tmp)
    {
        if (nr == PanelMatrix.Width)
        {
            if (accumulate)
            {
                lo = Vector512.Load(y) + lo;
                hi = Vector512.Load(y + 16) + hi;
            }
            lo.Store(y);
            hi.Store(y + 16);
            return;
        }
        lo.Store(tmp);
        hi.Store(tmp + 16);
        for (int j = 0; j < nr; j++) y[j] = accumulate ? y[j] + tmp[j] : tmp[j];
    }

    /// <summary>The scalar twin over the row-major matrix, same operation order: for tests.</summary>
    internal static void ForwardScalar(Span<float> y, ReadOnlySpan<float> x, int t, WeightMatrix w, ReadOnlySpan<float> bias, bool accumulate)
    {
        if (w.Type != DType.F32) throw new ArgumentException("F32 weights only");
        for (int i = 0; i < t; i++)
        for (int r = 0; r < w.Rows; r++)
        {
            var row = (float*)w.Row(r);
            float s = 0;
            for (int k = 0; k < w.Cols; k++) s = MathF.FusedMultiplyAdd(x[i * w.Cols + k], row[k], s);
            s += bias.IsEmpty ? 0f : bias[r];
            y[i * w.Rows + r] = accumulate ? y[i * w.Rows + r] + s : s;
        }
    }
}
