// Bidirectional (unmasked) scaled-dot-product attention over a batch of equal-length sequences, as the ViT encoder
// of CLIP uses it (transformers modeling_clip.py CLIPAttention with attention_mask = causal_attention_mask = None:
// softmax(q k^T * head_dim^-0.5) v per head). Every token of a sequence sees every token of the same sequence and
// nothing of the others. Parallel over (sequence, token, head); score rows live in the context's per-thread scratch.
// Fast path (AVX-512, head_dim a multiple of 16): K of each (sequence, head) is first transposed to (head_dim, keys),
// then blocks of 8 queries compute their score rows as broadcast-FMAs over 32 keys at a time (no horizontal sums)
// and their outputs as FMAs over V rows loaded once for the 8 queries: a small GEMM micro-kernel each way, with
// 16 accumulators so the FMAs, not the loads, set the pace (the earlier 4-query x 16-wide tiles issued more loads
// than FMAs: 577 tokens of ViT-L/14@336 spent ~20 % of a layer there against ~9 % of its FLOPs).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Furnace.Tensors;

public static unsafe partial class Attention
{
    // output (batch*seqLen, nHead*hd) = softmax(q k^T / sqrt(hd)) v, per sequence and head
    // q, k, v (batch*seqLen, nHead*hd); rows [b*seqLen, (b+1)*seqLen) form sequence b
    public static void Bidirectional(Span<float> output, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        int batch, int seqLen, int nHead, int headDim, KernelContext ctx)
    {
        if (batch < 1 || seqLen < 1 || nHead < 1 || headDim < 1)
            throw new ArgumentException($"attention shape batch {batch}, seqLen {seqLen}, heads {nHead}, head dim {headDim} must be positive");
        int dim = nHead * headDim;
        long need = (long)batch * seqLen * dim;
        if (q.Length < need || k.Length < need || v.Length < need) throw new ArgumentException($"q, k and v must hold {batch}x{seqLen}x{dim} floats");
        if (output.Length < need) throw new ArgumentException($"output holds {output.Length} floats, need {batch}x{seqLen}x{dim}");
        int stride = (seqLen + 15) & ~15; // per-thread rows padded to a cache line so threads never share one
        if (Vector512.IsHardwareAccelerated && headDim % 16 == 0)
        {
            BidirectionalBlocked(output, q, k, v, batch, seqLen, nHead, headDim, ctx);
            return;
        }
        var scores = (float*)ctx.Scratch(ScratchSlot.AttentionScores, (long)stride * ctx.Threads * sizeof(float));
        fixed (float* po = output, pq = q, pk = k, pv = v)
        {
            var job = new FullJob
            {
                O = po, Q = pq, K = pk, V = pv, Scores = scores, Stride = stride,
                SeqLen = seqLen, NHead = nHead, HeadDim = headDim, Dim = dim, Scale = 1f / MathF.Sqrt(headDim),
            };
            ctx.Run(ref job, batch * seqLen * nHead);
        }
    }

    private struct FullJob : IParallelJob
    {
        public float* O, Q, K, V, Scores;
        public int Stride, SeqLen, NHead, HeadDim, Dim;
        public float Scale;

        // items [start, end) of (batch*seqLen, nHead), row-major
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
        public void Execute(int start, int end, int thread)
        {
            float* s = Scores + (long)thread * Stride;
            for (int item = start; item < end; item++)
            {
                int row = item / NHead, h = item % NHead;
                long first = (long)(row / SeqLen) * SeqLen; // first row of this token's sequence
                float* qh = Q + (long)row * Dim + h * HeadDim;
                float* kh = K + first * Dim + h * HeadDim;
                float* vh = V + first * Dim + h * HeadDim;
                for (int p = 0; p < SeqLen; p++) s[p] = MatMulFloat.Dot<F32Load>((byte*)(kh + (long)p * Dim), qh, HeadDim) * Scale;
                Ops.Softmax(new Span<float>(s, SeqLen));
                float* o = O + (long)row * Dim + h * HeadDim;
                new Span<float>(o, HeadDim).Clear();
                for (int p = 0; p < SeqLen; p++) Vec.Axpy(o, s[p], vh + (long)p * Dim, HeadDim);
            }
        }
    }

    private const int QueryBlock = 8, KeyTile = 32;

    private static void BidirectionalBlocked(Span<float> output, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        int batch, int seqLen, int nHead, int headDim, KernelContext ctx)
    {
        int dim = nHead * headDim, blocks = (seqLen + QueryBlock - 1) / QueryBlock;
        int stride = (seqLen + KeyTile - 1) / KeyTile * KeyTile; // keys padded to whole 32-key tiles
        long perHead = (long)headDim * stride;
        long perThread = (long)QueryBlock * stride + (long)QueryBlock * headDim; // score rows, then the packed query block
        var kt = (float*)ctx.Scratch(ScratchSlot.AttentionKeys, (long)batch * nHead * perHead * sizeof(float));
        var scratch = (float*)ctx.Scratch(ScratchSlot.AttentionScores, perThread * ctx.Threads * sizeof(float));
        fixed (float* po = output, pq = q, pk = k, pv = v)
        {
            var transpose = new TransposeKeysJob { K = pk, Kt = kt, SeqLen = seqLen, Stride = stride, NHead = nHead, HeadDim = headDim, Dim = dim };
            ctx.Run(ref transpose, batch * nHead);
            var job = new BlockedJob
            {
                O = po, Q = pq, Kt = kt, V = pv, Scratch = scratch, PerThread = perThread, Stride = stride, SeqLen = seqLen, NHead = nHead,
                HeadDim = headDim, Dim = dim, Blocks = blocks, Scale = 1f / MathF.Sqrt(headDim),
            };
            ctx.Run(ref job, batch * nHead * blocks);
        }
    }

    // Kt[(b*nHead + h)][j][p] = K[b*seqLen + p][h*hd + j]; keys seqLen..stride-1 are zero
    private struct TransposeKeysJob : IParallelJob
    {
        public float* K, Kt;
        public int SeqLen, Stride, NHead, HeadDim, Dim;

        public readonly void Execute(int start, int end, int thread)
        {
            for (int item = start; item < end; item++)
            {
                int b = item / NHead, h = item % NHead;
                float* dst = Kt + (long)item * HeadDim * Stride;
                float* src = K + (long)b * SeqLen * Dim + h * HeadDim;
                for (int p = 0; p < SeqLen; p++)
                {
                    float* row = src + (long)p * Dim;
                    for (int j = 0; j < HeadDim; j++) dst[(long)j * Stride + p] = row[j];
                }
                for (int j = 0; j < HeadDim; j++) new Span<float>(dst + (long)j * Stride + SeqLen, Stride - SeqLen).Clear();
            }
        }
    }

    // One item = 8 queries of one (sequence, head), as two small GEMMs with 16 AVX-512 accumulators each:
    //   scores (8, keys) = qblock (8, hd) @ Kt (hd, keys) * scale     tiles of 8 queries x 32 keys: 2 key loads, 8 broadcasts, 16 FMAs per j
    //   softmax per row (the 8 rows stay in the thread's scratch, L1/L2)
    //   out (8, hd) = scores (8, keys) @ V (keys, hd)                 tiles of 8 queries x 32 columns (16 for a tail)
    private struct BlockedJob : IParallelJob
    {
        public float* O, Q, Kt, V, Scratch;
        public long PerThread;
        public int Stride, SeqLen, NHead, HeadDim, Dim, Blocks;
        public float Scale;

        // items [start, end) of (batch, head, query block), row-major
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end, int thread)
        {
            float* s = Scratch + thread * PerThread;
            float* qp = s + (long)QueryBlock * Stride; // qp[j*8 + i] = query i's element j; missing queries are 0
            var scale = Vector512.Create(Scale);
            for (int item = start; item < end; item++)
            {
                int blk = item % Blocks, bh = item / Blocks, h = bh % NHead, b = bh / NHead;
                int r0 = blk * QueryBlock, rows = Math.Min(QueryBlock, SeqLen - r0);
                long first = (long)b * SeqLen;
                float* q0 = Q + (first + r0) * Dim + h * HeadDim;
                for (int i = 0; i < QueryBlock; i++)
                    for (int j = 0; j < HeadDim; j++) qp[j * QueryBlock + i] = i < rows ? q0[(long)i * Dim + j] : 0f;
                Scores(s, qp, Kt + (long)bh * HeadDim * Stride, Stride, HeadDim, scale);
                for (int i = 0; i < rows; i++) Ops.SoftmaxVec(new Span<float>(s + (long)i * Stride, SeqLen));
                float* vh = V + first * Dim + h * HeadDim;
                float* o0 = O + (first + r0) * Dim + h * HeadDim;
                int c = 0;
                for (; c + 32 <= HeadDim; c += 32) Values32(o0 + c, Dim, rows, s, Stride, vh + c, SeqLen);
                if (c < HeadDim) Values16(o0 + c, Dim, rows, s, Stride, vh + c, SeqLen);
            }
        }
    }

    // s[i][p] = scale * sum_j qp[j][i] kt[j][p], p < stride (a multiple of 32)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Scores(float* s, float* qp, float* kt, int stride, int hd, Vector512<float> scale)
    {
        for (int p = 0; p < stride; p += KeyTile)
        {
            Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
            Vector512<float> a40 = default, a41 = default, a50 = default, a51 = default, a60 = default, a61 = default, a70 = default, a71 = default;
            float* kp = kt + p, x = qp;
            for (int j = 0; j < hd; j++, kp += stride, x += QueryBlock)
            {
                var k0 = Vector512.Load(kp);
                var k1 = Vector512.Load(kp + 16);
                var b = Vector512.Create(x[0]);
                a00 = Vector512.FusedMultiplyAdd(b, k0, a00); a01 = Vector512.FusedMultiplyAdd(b, k1, a01);
                b = Vector512.Create(x[1]);
                a10 = Vector512.FusedMultiplyAdd(b, k0, a10); a11 = Vector512.FusedMultiplyAdd(b, k1, a11);
                b = Vector512.Create(x[2]);
                a20 = Vector512.FusedMultiplyAdd(b, k0, a20); a21 = Vector512.FusedMultiplyAdd(b, k1, a21);
                b = Vector512.Create(x[3]);
                a30 = Vector512.FusedMultiplyAdd(b, k0, a30); a31 = Vector512.FusedMultiplyAdd(b, k1, a31);
                b = Vector512.Create(x[4]);
                a40 = Vector512.FusedMultiplyAdd(b, k0, a40); a41 = Vector512.FusedMultiplyAdd(b, k1, a41);
                b = Vector512.Create(x[5]);
                a50 = Vector512.FusedMultiplyAdd(b, k0, a50); a51 = Vector512.FusedMultiplyAdd(b, k1, a51);
                b = Vector512.Create(x[6]);
                a60 = Vector512.FusedMultiplyAdd(b, k0, a60); a61 = Vector512.FusedMultiplyAdd(b, k1, a61);
                b = Vector512.Create(x[7]);
                a70 = Vector512.FusedMultiplyAdd(b, k0, a70); a71 = Vector512.FusedMultiplyAdd(b, k1, a71);
            }
            float* d = s + p;
            (a00 * scale).Store(d); (a01 * scale).Store(d + 16); d += stride;
            (a10 * scale).Store(d); (a11 * scale).Store(d + 16); d += stride;
            (a20 * scale).Store(d); (a21 * scale).Store(d + 16); d += stride;
            (a30 * scale).Store(d); (a31 * scale).Store(d + 16); d += stride;
            (a40 * scale).Store(d); (a41 * scale).Store(d + 16); d += stride;
            (a50 * scale).Store(d); (a51 * scale).Store(d + 16); d += stride;
            (a60 * scale).Store(d); (a61 * scale).Store(d + 16); d += stride;
            (a70 * scale).Store(d); (a71 * scale).Store(d + 16);
        }
    }

    // o[i][0..32) = sum_p s[i][p] v[p][0..32) for i < rows (o, v rows dim apart; rows past `rows` are computed, not stored)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Values32(float* o, int dim, int rows, float* s, int stride, float* v, int keys)
    {
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        Vector512<float> a40 = default, a41 = default, a50 = default, a51 = default, a60 = default, a61 = default, a70 = default, a71 = default;
        float* s1 = s + stride, s2 = s1 + stride, s3 = s2 + stride, s4 = s3 + stride, s5 = s4 + stride, s6 = s5 + stride, s7 = s6 + stride;
        for (int p = 0; p < keys; p++, v += dim)
        {
            var v0 = Vector512.Load(v);
            var v1 = Vector512.Load(v + 16);
            var b = Vector512.Create(s[p]);
            a00 = Vector512.FusedMultiplyAdd(b, v0, a00); a01 = Vector512.FusedMultiplyAdd(b, v1, a01);
            b = Vector512.Create(s1[p]);
            a10 = Vector512.FusedMultiplyAdd(b, v0, a10); a11 = Vector512.FusedMultiplyAdd(b, v1, a11);
            b = Vector512.Create(s2[p]);
            a20 = Vector512.FusedMultiplyAdd(b, v0, a20); a21 = Vector512.FusedMultiplyAdd(b, v1, a21);
            b = Vector512.Create(s3[p]);
            a30 = Vector512.FusedMultiplyAdd(b, v0, a30); a31 = Vector512.FusedMultiplyAdd(b, v1, a31);
            b = Vector512.Create(s4[p]);
            a40 = Vector512.FusedMultiplyAdd(b, v0, a40); a41 = Vector512.FusedMultiplyAdd(b, v1, a41);
            b = Vector512.Create(s5[p]);
            a50 = Vector512.FusedMultiplyAdd(b, v0, a50); a51 = Vector512.FusedMultiplyAdd(b, v1, a51);
            b = Vector512.Create(s6[p]);
            a60 = Vector512.FusedMultiplyAdd(b, v0, a60); a61 = Vector512.FusedMultiplyAdd(b, v1, a61);
            b = Vector512.Create(s7[p]);
            a70 = Vector512.FusedMultiplyAdd(b, v0, a70); a71 = Vector512.FusedMultiplyAdd(b, v1, a71);
        }
        a00.Store(o); a01.Store(o + 16);
        if (rows > 1) { a10.Store(o + dim); a11.Store(o + dim + 16); }
        if (rows > 2) { a20.Store(o + 2 * dim); a21.Store(o + 2 * dim + 16); }
        if (rows > 3) { a30.Store(o + 3 * dim); a31.Store(o + 3 * dim + 16); }
        if (rows > 4) { a40.Store(o + 4 * dim); a41.Store(o + 4 * dim + 16); }
        if (rows > 5) { a50.Store(o + 5 * dim); a51.Store(o + 5 * dim + 16); }
        if (rows > 6) { a60.Store(o + 6 * dim); a61.Store(o + 6 * dim + 16); }
        if (rows > 7) { a70.Store(o + 7 * dim); a71.Store(o + 7 * dim + 16); }
    }

    // Values32 for a 16-column tail
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Values16(float* o, int dim, int rows, float* s, int stride, float* v, int keys)
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
        float* s1 = s + stride, s2 = s1 + stride, s3 = s2 + stride, s4 = s3 + stride, s5 = s4 + stride, s6 = s5 + stride, s7 = s6 + stride;
        for (int p = 0; p < keys; p++, v += dim)
        {
            var v0 = Vector512.Load(v);
            a0 = Vector512.FusedMultiplyAdd(Vector512.Create(s[p]), v0, a0);
            a1 = Vector512.FusedMultiplyAdd(Vector512.Create(s1[p]), v0, a1);
            a2 = Vector512.FusedMultiplyAdd(Vector512.Create(s2[p]), v0, a2);
            a3 = Vector512.FusedMultiplyAdd(Vector512.Create(s3[p]), v0, a3);
            a4 = Vector512.FusedMultiplyAdd(Vector512.Create(s4[p]), v0, a4);
            a5 = Vector512.FusedMultiplyAdd(Vector512.Create(s5[p]), v0, a5);
            a6 = Vector512.FusedMultiplyAdd(Vector512.Create(s6[p]), v0, a6);
            a7 = Vector512.FusedMultiplyAdd(Vector512.Create(s7[p]), v0, a7);
        }
        a0.Store(o);
        if (rows > 1) a1.Store(o + dim);
        if (rows > 2) a2.Store(o + 2 * dim);
        if (rows > 3) a3.Store(o + 3 * dim);
        if (rows > 4) a4.Store(o + 4 * dim);
        if (rows > 5) a5.Store(o + 5 * dim);
        if (rows > 6) a6.Store(o + 6 * dim);
        if (rows > 7) a7.Store(o + 7 * dim);
    }
}
