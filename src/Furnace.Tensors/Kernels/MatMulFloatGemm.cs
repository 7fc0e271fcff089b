// Float GEMM for many tokens (F32 weights from 128 tokens, F16/BF16 from 16) as an outer-product micro-kernel, the
// way BLAS and ggml's sgemm (llamafile tinyBLAS) do it instead of dot products: a block of 32 weight rows × 256 columns is packed
// (transposed, decoded to f32) into per-thread scratch, then tiles of 6 tokens × 32 outputs accumulate in 12 AVX-512
// registers, one weight-vector pair and six activation broadcasts per column (FMA-bound, no horizontal sums).
// Output rows past the last full block of 32 fall back to MatMulFloat.Job. Parallel over blocks of 32 rows. Packing
// (16-wide decode, scalar scatter) decodes each weight once per call, where the dot-product tiles decode it once per
// 4 tokens: measured here, ViT-B/32 (50 tokens) f16 2.1x faster, f32 unchanged; ViT-L/14 fc1 (577 tokens) f32 2.1x.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Furnace.Tensors;

internal static unsafe class MatMulFloatGemm
{
    public const int RowBlock = 32, ColBlock = 256, TokenTile = 6, MinTokens = 128, MinTokensHalf = 16;

    // off: every float GEMM takes MatMulFloat's dot-product tiles (A/B timing from a scratch program)
    internal static bool Enabled = true;

    public static bool Applies(int t, WeightMatrix w) =>
        Enabled && w.Rows >= RowBlock && Vector512.IsHardwareAccelerated
        && (w.Type == DType.F32 ? t >= MinTokens : w.Type is DType.F16 or DType.BF16 && t >= MinTokensHalf);

    // y (t, rows) = x (t, cols) @ w^T; x already rounded to the weight's dot type
    public static void Run<TL>(float* y, float* x, int t, WeightMatrix w, KernelContext ctx) where TL : struct, IFloatLoad
    {
        int blocks = w.Rows / RowBlock;
        var packed = (float*)ctx.Scratch(ScratchSlot.MatMulFloatGemm, (long)ColBlock * RowBlock * ctx.Threads * sizeof(float));
        var job = new Job<TL> { Y = y, X = x, T = t, W = w, Packed = packed };
        ctx.Run(ref job, blocks);
        int done = blocks * RowBlock;
        if (done < w.Rows)
        {
            var rest = new MatMulFloat.Job<TL> { Y = y, X = x, T = t, W = w };
            rest.Execute(done, w.Rows, 0);
        }
    }

    private struct Job<TL> : IParallelJob where TL : struct, IFloatLoad
    {
        public float* Y, X, Packed;
        public int T;
        public WeightMatrix W;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Execute(int start, int end, int thread)
        {
            float* wp = Packed + (long)thread * ColBlock * RowBlock;
            float* tmp = stackalloc float[16];
            int cols = W.Cols, rows = W.Rows;
            for (int blk = start; blk < end; blk++)
            {
                int r0 = blk * RowBlock;
                for (int k0 = 0; k0 < cols; k0 += ColBlock)
                {
                    int kn = Math.Min(ColBlock, cols - k0);
                    // wp[k][j] = W[r0 + j][k0 + k]
                    for (int j = 0; j < RowBlock; j++)
                    {
                        byte* row = W.Row(r0 + j);
                        int k = 0;
                        for (; k + 16 <= kn; k += 16) // decode 16 (f16/bf16 -> f32) at once, then scatter
                        {
                            TL.Load512(row, k0 + k).Store(tmp);
                            float* dst = wp + k * RowBlock + j;
                            for (int l = 0; l < 16; l++) dst[l * RowBlock] = tmp[l];
                        }
                        for (; k < kn; k++) wp[k * RowBlock + j] = TL.Load1(row, k0 + k);
                    }
                    bool first = k0 == 0;
                    for (int t0 = 0; t0 < T; t0 += TokenTile)
                    {
                        int nt = Math.Min(TokenTile, T - t0);
                        Tile(Y + (long)t0 * rows + r0, rows, X + (long)t0 * cols + k0, cols, nt, wp, kn, first);
                    }
                }
            }
        }
    }

    // y[i][0..32) (+)= sum_k x[i][k] * wp[k][0..32) for i < nt (rows past nt repeat row 0 and are not stored)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile(float* y, int yStride, float* x, int xStride, int nt, float* wp, int kn, bool first)
    {
        float* x0 = x, x1 = nt > 1 ? x + xStride : x, x2 = nt > 2 ? x + 2 * xStride : x;
        float* x3 = nt > 3 ? x + 3 * xStride : x, x4 = nt > 4 ? x + 4 * xStride : x, x5 = nt > 5 ? x + 5 * xStride : x;
        Vector512<float> a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51;
        if (first)
        {
            a00 = a01 = a10 = a11 = a20 = a21 = a30 = a31 = a40 = a41 = a50 = a51 = Vector512<float>.Zero;
        }
        else
        {
            a00 = Vector512.Load(y); a01 = Vector512.Load(y + 16);
            a10 = nt > 1 ? Vector512.Load(y + yStride) : default; a11 = nt > 1 ? Vector512.Load(y + yStride + 16) : default;
            a20 = nt > 2 ? Vector512.Load(y + 2 * yStride) : default; a21 = nt > 2 ? Vector512.Load(y + 2 * yStride + 16) : default;
            a30 = nt > 3 ? Vector512.Load(y + 3 * yStride) : default; a31 = nt > 3 ? Vector512.Load(y + 3 * yStride + 16) : default;
            a40 = nt > 4 ? Vector512.Load(y + 4 * yStride) : default; a41 = nt > 4 ? Vector512.Load(y + 4 * yStride + 16) : default;
            a50 = nt > 5 ? Vector512.Load(y + 5 * yStride) : default; a51 = nt > 5 ? Vector512.Load(y + 5 * yStride + 16) : default;
        }
        for (int k = 0; k < kn; k++)
        {
            var w0 = Vector512.Load(wp + k * RowBlock);
            var w1 = Vector512.Load(wp + k * RowBlock + 16);
            var b = Vector512.Create(x0[k]);
            a00 = Vector512.FusedMultiplyAdd(b, w0, a00); a01 = Vector512.FusedMultiplyAdd(b, w1, a01);
            b = Vector512.Create(x1[k]);
            a10 = Vector512.FusedMultiplyAdd(b, w0, a10); a11 = Vector512.FusedMultiplyAdd(b, w1, a11);
            b = Vector512.Create(x2[k]);
            a20 = Vector512.FusedMultiplyAdd(b, w0, a20); a21 = Vector512.FusedMultiplyAdd(b, w1, a21);
            b = Vector512.Create(x3[k]);
            a30 = Vector512.FusedMultiplyAdd(b, w0, a30); a31 = Vector512.FusedMultiplyAdd(b, w1, a31);
            b = Vector512.Create(x4[k]);
            a40 = Vector512.FusedMultiplyAdd(b, w0, a40); a41 = Vector512.FusedMultiplyAdd(b, w1, a41);
            b = Vector512.Create(x5[k]);
            a50 = Vector512.FusedMultiplyAdd(b, w0, a50); a51 = Vector512.FusedMultiplyAdd(b, w1, a51);
        }
        a00.Store(y); a01.Store(y + 16);
        if (nt > 1) { a10.Store(y + yStride); a11.Store(y + yStride + 16); }
        if (nt > 2) { a20.Store(y + 2 * yStride); a21.Store(y + 2 * yStride + 16); }
        if (nt > 3) { a30.Store(y + 3 * yStride); a31.Store(y + 3 * yStride + 16); }
        if (nt > 4) { a40.Store(y + 4 * yStride); a41.Store(y + 4 * yStride + 16); }
        if (nt > 5) { a50.Store(y + 5 * yStride); a51.Store(y + 5 * yStride + 16); }
    }
}
