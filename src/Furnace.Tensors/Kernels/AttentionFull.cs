// Bidirectional (unmasked) scaled-dot-product attention over a batch of equal-length sequences, as the ViT encoder
// of CLIP uses it (transformers modeling_clip.py CLIPAttention with attention_mask = causal_attention_mask = None:
// softmax(q k^T * head_dim^-0.5) v per head). Every token of a sequence sees every token of the same sequence and
// nothing of the others. Parallel over (sequence, token, head); score rows live in the context's per-thread scratch.
// Fast path (AVX-512, head_dim a multiple of 16): K of each (sequence, head) is first transposed to (head_dim, keys),
// then blocks of 4 queries compute their score rows as broadcast-FMAs over 16 keys at a time (no horizontal sums)
// and their outputs as FMAs over V rows loaded once for the 4 queries: a small GEMM micro-kernel each way.
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
            BidirectionalBlocked(output, q, k, v, batch, seqLen, nHead, headDim, stride, ctx);
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

    private const int QueryBlock = 4;

    private static void BidirectionalBlocked(Span<float> output, ReadOnlySpan<float> q, ReadOnlySpan<float> k, ReadOnlySpan<float> v,
        int batch, int seqLen, int nHead, int headDim, int stride, KernelContext ctx)
    {
        int dim = nHead * headDim, blocks = (seqLen + QueryBlock - 1) / QueryBlock;
        long perHead = (long)headDim * stride;
        var kt = (float*)ctx.Scratch(ScratchSlot.AttentionKeys, (long)batch * nHead * perHead * sizeof(float));
        var scores = (float*)ctx.Scratch(ScratchSlot.AttentionScores, (long)QueryBlock * stride * ctx.Threads * sizeof(float));
        fixed (float* po = output, pq = q, pk = k, pv = v)
        {
            var transpose = new TransposeKeysJob { K = pk, Kt = kt, SeqLen = seqLen, Stride = stride, NHead = nHead, HeadDim = headDim, Dim = dim };
            ctx.Run(ref transpose, batch * nHead);
            var job = new BlockedJob
            {
                O = po, Q = pq, Kt = kt, V = pv, Scores = scores, Stride = stride, SeqLen = seqLen, NHead = nHead,
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

    private struct BlockedJob : IParallelJob
    {
        public float* O, Q, Kt, V, Scores;
        public int Stride, SeqLen, NHead, HeadDim, Dim, Blocks;
        public float Scale;

        // items [start, end) of (batch, head, query block), row-major
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public readonly void Execute(int start, int end, int thread)
        {
            float* s = Scores + (long)thread * QueryBlock * Stride;
            float* s0 = s, s1 = s + Stride, s2 = s + 2 * Stride, s3 = s + 3 * Stride;
            var scale = Vector512.Create(Scale);
            for (int item = start; item < end; item++)
            {
                int blk = item % Blocks, bh = item / Blocks, h = bh % NHead, b = bh / NHead;
                int r0 = blk * QueryBlock, rows = Math.Min(QueryBlock, SeqLen - r0);
                long first = (long)b * SeqLen;
                // rows past the end repeat the block's first row; their results are not stored
                float* q0 = Q + (first + r0) * Dim + h * HeadDim;
                float* q1 = rows > 1 ? q0 + Dim : q0, q2 = rows > 2 ? q0 + 2 * Dim : q0, q3 = rows > 3 ? q0 + 3 * Dim : q0;
                float* kt = Kt + (long)bh * HeadDim * Stride;

                // scores (4, keys) = q (4, hd) @ Kt (hd, keys) * scale
                for (int p = 0; p < Stride; p += 16)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    float* kp = kt + p;
                    for (int j = 0; j < HeadDim; j++)
                    {
                        var kv = Vector512.Load(kp + (long)j * Stride);
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Create(q0[j]), kv, a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Create(q1[j]), kv, a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Create(q2[j]), kv, a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.Create(q3[j]), kv, a3);
                    }
                    (a0 * scale).Store(s0 + p);
                    (a1 * scale).Store(s1 + p);
                    (a2 * scale).Store(s2 + p);
                    (a3 * scale).Store(s3 + p);
                }
                Ops.SoftmaxVec(new Span<float>(s0, SeqLen));
                Ops.SoftmaxVec(new Span<float>(s1, SeqLen));
                Ops.SoftmaxVec(new Span<float>(s2, SeqLen));
                Ops.SoftmaxVec(new Span<float>(s3, SeqLen));

                // out (4, hd) = scores (4, keys) @ V (keys, hd), 16 columns at a time
                float* vh = V + first * Dim + h * HeadDim;
                float* o0 = O + (first + r0) * Dim + h * HeadDim;
                for (int c = 0; c < HeadDim; c += 16)
                {
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
                    for (int p = 0; p < SeqLen; p++)
                    {
                        var vv = Vector512.Load(vh + (long)p * Dim + c);
                        a0 = Vector512.FusedMultiplyAdd(Vector512.Create(s0[p]), vv, a0);
                        a1 = Vector512.FusedMultiplyAdd(Vector512.Create(s1[p]), vv, a1);
                        a2 = Vector512.FusedMultiplyAdd(Vector512.Create(s2[p]), vv, a2);
                        a3 = Vector512.FusedMultiplyAdd(Vector512.Create(s3[p]), vv, a3);
                    }
                    a0.Store(o0 + c);
                    if (rows > 1) a1.Store(o0 + Dim + c);
                    if (rows > 2) a2.Store(o0 + 2 * Dim + c);
                    if (rows > 3) a3.Store(o0 + 3 * Dim + c);
                }
            }
        }
    }
}
