// Windowed (or global) attention with decomposed relative-position terms, as SAM's ViTDet image encoder computes it
// (segment-anything / DeepSeek-VL sam.py: Block with window_partition / window_unpartition, Attention with
// add_decomposed_rel_pos; MViTv2's decomposed relative positions):
//   the token map (H, W) is zero-padded to multiples of the window and cut into window×window windows (window 0: one
//   window, the whole map); within a window, per head, query i = (qy, qx) and key j = (ky, kx):
//     score[i][j] = scale·q_i·k_j + q_i·Rh[qy][ky] + q_i·Rw[qx][kx]      (q unscaled in the relative terms)
//     out_i = softmax_j(score[i]) · V
// Padded tokens are zero after norm1, so their q, k, v are the qkv bias (the `pad` row): they take part as keys and
// values exactly as in the reference; their outputs are dropped (unpartition crops them).
// Fast path (AVX-512, head_dim a multiple of 16), as Bidirectional's: K of each (window, head) is gathered transposed
// to (head_dim, keys) and V to (keys, head_dim) in the context's scratch, then blocks of 4 queries compute their score
// rows as broadcast-FMAs over 16 keys at a time and their outputs as FMAs over V rows loaded once for the 4 queries.
// Other shapes: one query at a time with dot products, reading tokens in place (RelPosJob). Parallel over
// (window, head, query block | query); per-thread score rows in the context's scratch.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Furnace.Tensors;

public static unsafe partial class Attention
{
    /// <summary>
    /// output (H·W, heads·hd) from qkv (H·W, 3·heads·hd), each row [q | k | v] with heads of hd inside each part (the
    /// qkv Linear's output); pad (3·heads·hd) is the qkv row of a padded token. window 0: global attention over the
    /// whole map. relH (wh, wh, hd) and relW (ww, ww, hd) are get_rel_pos's tables for the window's sides
    /// (wh = ww = window, or H and W when global).
    /// </summary>
    public static void WindowedRelPos(Span<float> output, ReadOnlySpan<float> qkv, ReadOnlySpan<float> pad, int height, int width,
        int window, int nHead, int headDim, ReadOnlySpan<float> relH, ReadOnlySpan<float> relW, KernelContext ctx)
    {
        if (height < 1 || width < 1 || window < 0 || nHead < 1 || headDim < 1)
            throw new ArgumentException($"windowed attention shape {height}x{width}, window {window}, heads {nHead}, head dim {headDim} is invalid");
        int dim = nHead * headDim, tokens = height * width;
        int wh = window > 0 ? window : height, ww = window > 0 ? window : width;
        if (qkv.Length < (long)tokens * 3 * dim) throw new ArgumentException($"qkv holds {qkv.Length} floats, need {tokens}x{3 * dim}");
        if (pad.Length < 3 * dim) throw new ArgumentException($"pad row holds {pad.Length} floats, need {3 * dim}");
        if (output.Length < (long)tokens * dim) throw new ArgumentException($"output holds {output.Length} floats, need {tokens}x{dim}");
        if (relH.Length < (long)wh * wh * headDim || relW.Length < (long)ww * ww * headDim)
            throw new ArgumentException($"relative position tables hold {relH.Length} and {relW.Length} floats, need {wh}x{wh}x{headDim} and {ww}x{ww}x{headDim}");
        int windowsY = (height + wh - 1) / wh, windowsX = (width + ww - 1) / ww, keys = wh * ww;
        if (Vector512.IsHardwareAccelerated && headDim % 16 == 0)
        {
            WindowedRelPosBlocked(output, qkv, pad, height, width, wh, ww, windowsY, windowsX, nHead, headDim, relH, relW, ctx);
            return;
        }
        int stride = (keys + wh + ww + 15) & ~15;
        var scratch = (float*)ctx.Scratch(ScratchSlot.RelPosAttention, (long)stride * ctx.Threads * sizeof(float));
        fixed (float* po = output, pq = qkv, pp = pad, ph = relH, pw = relW)
        {
            var job = new RelPosJob
            {
                O = po, Qkv = pq, Pad = pp, RelH = ph, RelW = pw, Scratch = scratch, Stride = stride,
                Height = height, Width = width, Wh = wh, Ww = ww, WindowsX = windowsX, NHead = nHead, HeadDim = headDim,
                Dim = dim, Scale = 1f / MathF.Sqrt(headDim),
            };
            ctx.Run(ref job, windowsY * windowsX * nHead * keys, 8);
        }
    }

    // the blocked path computes 4 query rows at a time (s0..s3); the bidirectional kernel's QueryBlock is its own
    private const int RelPosQueryBlock = 4;

    private static void WindowedRelPosBlocked(Span<float> output, ReadOnlySpan<float> qkv, ReadOnlySpan<float> pad, int height, int width,
        int wh, int ww, int windowsY, int windowsX, int nHead, int headDim, ReadOnlySpan<float> relH, ReadOnlySpan<float> relW, KernelContext ctx)
    {
        int dim = nHead * headDim, keys = wh * ww, stride = (keys + 15) & ~15, groups = windowsY * windowsX * nHead;
        int blocks = (keys + RelPosQueryBlock - 1) / RelPosQueryBlock;
        long perGroup = (long)headDim * stride + (long)keys * headDim; // Kt (hd, stride) then V (keys, hd)
        var kv = (float*)ctx.Scratch(ScratchSlot.AttentionKeys, groups * perGroup * sizeof(float));
        int rowFloats = RelPosQueryBlock * (stride + wh + ww);
        var scores = (float*)ctx.Scratch(ScratchSlot.RelPosAttention, (long)rowFloats * ctx.Threads * sizeof(float));
        fixed (float* po = output, pq = qkv, pp = pad, ph = relH, pw = relW)
        {
            var gather = new GatherWindowJob
            {
                Qkv = pq, Pad = pp, Kv = kv, PerGroup = perGroup, Stride = stride, Height = height, Width = width,
                Wh = wh, Ww = ww, WindowsX = windowsX, NHead = nHead, HeadDim = headDim, Dim = dim,
            };
            ctx.Run(ref gather, groups);
            var job = new RelPosBlockedJob
            {
                O = po, Qkv = pq, Pad = pp, RelH = ph, RelW = pw, Kv = kv, Scores = scores, PerGroup = perGroup, RowFloats = rowFloats,
                Stride = stride, Height = height, Width = width, Wh = wh, Ww = ww, WindowsX = windowsX, NHead = nHead,
                HeadDim = headDim, Dim = dim, Blocks = blocks, Scale = 1f / MathF.Sqrt(headDim),
            };
            ctx.Run(ref job, groups * blocks);
        }
    }

    // token j of window (wy, wx): its qkv row, or the pad row outside the map; null-free either way
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* WindowRow(float* qkv, float* pad, int height, int width, int wh, int ww, int dim, int wy, int wx, int j)
    {
        int gy = wy * wh + j / ww, gx = wx * ww + j % ww;
        return gy < height && gx < width ? qkv + ((long)gy * width + gx) * 3 * dim : pad;
    }

    // per (window, head) group g: Kt[g][c][j] = k_j[c] (keys past the window are zero), V[g][j][c] = v_j[c]
    private struct GatherWindowJob : IParallelJob
    {
        public float* Qkv, Pad, Kv;
        public long PerGroup;
        public int Stride, Height, Width, Wh, Ww, WindowsX, NHead, HeadDim, Dim;

        public readonly void Execute(int start, int end, int thread)
        {
            int keys = Wh * Ww;
            for (int g = start; g < end; g++)
            {
                int h = g % NHead, win = g / NHead, wy = win / WindowsX, wx = win % WindowsX, off = h * HeadDim;
                float* kt = Kv + g * PerGroup, v = kt + (long)HeadDim * Stride;
                for (int j = 0; j < keys; j++)
                {
                    float* row = WindowRow(Qkv, Pad, Height, Width, Wh, Ww, Dim, wy, wx, j);
                    float* k = row + Dim + off;
                    for (int c = 0; c < HeadDim; c++) kt[(long)c * Stride + j] = k[c];
                    new ReadOnlySpan<float>(row + 2 * Dim + off, HeadDim).CopyTo(new Span<float>(v + (long)j * HeadDim, HeadDim));
                }
                for (int c = 0; c < HeadDim; c++) new Span<float>(kt + (long)c * Stride + keys, Stride - keys).Clear();
            }
        }
    }

    private struct RelPosBlockedJob : IParallelJob
    {
        public float* O, Qkv, Pad, RelH, RelW, Kv, Scores;
        public long PerGroup;
        public int RowFloats, Stride, Height, Width, Wh, Ww, WindowsX, NHead, HeadDim, Dim, Blocks;
        public float Scale;

        // items [start, end) of (window, head, query block), row-major
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end, int thread)
        {
            int keys = Wh * Ww;
            float* rows = Scores + (long)thread * RowFloats;
            float* s0 = rows, s1 = rows + Stride, s2 = rows + 2 * Stride, s3 = rows + 3 * Stride;
            float* rel = rows + RelPosQueryBlock * Stride; // per query: rh (wh) then rw (ww)
            var scale = Vector512.Create(Scale);
            var q = stackalloc float*[RelPosQueryBlock];
            var o = stackalloc float*[RelPosQueryBlock]; // null: not stored (past the window, or a padded position)
            for (int item = start; item < end; item++)
            {
                int blk = item % Blocks, g = item / Blocks, h = g % NHead, win = g / NHead;
                int wy = win / WindowsX, wx = win % WindowsX, off = h * HeadDim, i0 = blk * RelPosQueryBlock;
                for (int r = 0; r < RelPosQueryBlock; r++)
                {
                    int i = Math.Min(i0 + r, keys - 1);
                    float* row = WindowRow(Qkv, Pad, Height, Width, Wh, Ww, Dim, wy, wx, i);
                    q[r] = row + off;
                    o[r] = i0 + r < keys && row != Pad ? O + (row - Qkv) / 3 + off : null;
                    int qy = i / Ww, qx = i % Ww;
                    float* rh = rel + r * (Wh + Ww), rw = rh + Wh;
                    for (int ky = 0; ky < Wh; ky++) rh[ky] = MatMulFloat.Dot<F32Load>((byte*)(RelH + ((long)qy * Wh + ky) * HeadDim), q[r], HeadDim);
                    for (int kx = 0; kx < Ww; kx++) rw[kx] = MatMulFloat.Dot<F32Load>((byte*)(RelW + ((long)qx * Ww + kx) * HeadDim), q[r], HeadDim);
                }
                float* q0 = q[0], q1 = q[1], q2 = q[2], q3 = q[3];
                float* kt = Kv + g * PerGroup, v = kt + (long)HeadDim * Stride;

                // scores (4, keys) = q (4, hd) @ Kt (hd, keys) * scale
                for (int p = 0; p < Stride; p += 16)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    float* kp = kt + p;
                    for (int c = 0; c < HeadDim; c++)
                    {
                        var kv = Vector512.Load(kp + (long)c * Stride);
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Create(q0[c]), kv, a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Create(q1[c]), kv, a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Create(q2[c]), kv, a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.Create(q3[c]), kv, a3);
                    }
                    (a0 * scale).Store(s0 + p);
                    (a1 * scale).Store(s1 + p);
                    (a2 * scale).Store(s2 + p);
                    (a3 * scale).Store(s3 + p);
                }
                for (int r = 0; r < RelPosQueryBlock; r++)
                {
                    float* sr = rows + r * Stride, rh = rel + r * (Wh + Ww), rw = rh + Wh;
                    for (int ky = 0; ky < Wh; ky++)
                    {
                        float* srow = sr + ky * Ww;
                        float b = rh[ky];
                        for (int kx = 0; kx < Ww; kx++) srow[kx] += b + rw[kx];
                    }
                    Ops.SoftmaxVec(new Span<float>(sr, keys));
                }

                // out (4, hd) = scores (4, keys) @ V (keys, hd), 16 columns at a time
                for (int c = 0; c < HeadDim; c += 16)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int p = 0; p < keys; p++)
                    {
                        var vv = Vector512.Load(v + (long)p * HeadDim + c);
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Create(s0[p]), vv, a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Create(s1[p]), vv, a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Create(s2[p]), vv, a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.Create(s3[p]), vv, a3);
                    }
                    if (o[0] != null) a0.Store(o[0] + c);
                    if (o[1] != null) a1.Store(o[1] + c);
                    if (o[2] != null) a2.Store(o[2] + c);
                    if (o[3] != null) a3.Store(o[3] + c);
                }
            }
        }
    }

    private struct RelPosJob : IParallelJob
    {
        public float* O, Qkv, Pad, RelH, RelW, Scratch;
        public int Stride, Height, Width, Wh, Ww, WindowsX, NHead, HeadDim, Dim;
        public float Scale;

        // key/value row base of local token j of window (wy, wx): the token's qkv row, or the pad row outside the map
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        private readonly float* Row(int wy, int wx, int j)
        {
            int gy = wy * Wh + j / Ww, gx = wx * Ww + j % Ww;
            return gy < Height && gx < Width ? Qkv + ((long)gy * Width + gx) * 3 * Dim : Pad;
        }

        // items [start, end) of (window, head, query), row-major; windows row-major over (windowsY, windowsX)
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end, int thread)
        {
            int keys = Wh * Ww;
            float* s = Scratch + (long)thread * Stride, rh = s + keys, rw = rh + Wh;
            for (int item = start; item < end; item++)
            {
                int i = item % keys, wh = item / keys, h = wh % NHead, win = wh / NHead;
                int wy = win / WindowsX, wx = win % WindowsX, qy = i / Ww, qx = i % Ww;
                int gy = wy * Wh + qy, gx = wx * Ww + qx;
                if (gy >= Height || gx >= Width) continue; // a padded query: cropped by unpartition
                int off = h * HeadDim;
                float* q = Qkv + ((long)gy * Width + gx) * 3 * Dim + off;
                for (int ky = 0; ky < Wh; ky++) rh[ky] = MatMulFloat.Dot<F32Load>((byte*)(RelH + ((long)qy * Wh + ky) * HeadDim), q, HeadDim);
                for (int kx = 0; kx < Ww; kx++) rw[kx] = MatMulFloat.Dot<F32Load>((byte*)(RelW + ((long)qx * Ww + kx) * HeadDim), q, HeadDim);
                for (int j = 0; j < keys; j++)
                {
                    float* k = Row(wy, wx, j) + Dim + off;
                    s[j] = MatMulFloat.Dot<F32Load>((byte*)k, q, HeadDim) * Scale + rh[j / Ww] + rw[j % Ww];
                }
                Ops.SoftmaxVec(new Span<float>(s, keys));
                float* o = O + ((long)gy * Width + gx) * Dim + off;
                new Span<float>(o, HeadDim).Clear();
                for (int j = 0; j < keys; j++) Vec.Axpy(o, s[j], Row(wy, wx, j) + 2 * Dim + off, HeadDim);
            }
        }
    }
}
