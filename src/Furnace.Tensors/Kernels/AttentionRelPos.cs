// Windowed (or global) attention with decomposed relative-position terms, as SAM's ViTDet image encoder computes it
// (segment-anything / DeepSeek-VL sam.py: Block with window_partition / window_unpartition, Attention with
// add_decomposed_rel_pos; MViTv2's decomposed relative positions):
//   the token map (H, W) is zero-padded to multiples of the window and cut into window×window windows (window 0: one
//   window, the whole map); within a window, per head, query i = (qy, qx) and key j = (ky, kx):
//     score[i][j] = scale·q_i·k_j + q_i·Rh[qy][ky] + q_i·Rw[qx][kx]      (q unscaled in the relative terms)
//     out_i = softmax_j(score[i]) · V
// Padded tokens are zero after norm1, so their q, k, v are the qkv bias (the `pad` row): they take part as keys and
// values exactly as in the reference; their outputs are dropped (unpartition crops them). Nothing is copied into
// windows: tokens are read in place from the qkv rows. Parallel over (window, head, query); per-thread score rows in
// the context's scratch.
using System.Runtime.CompilerServices;

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
