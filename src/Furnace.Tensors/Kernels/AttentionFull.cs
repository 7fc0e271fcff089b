// Bidirectional (unmasked) scaled-dot-product attention over a batch of equal-length sequences, as the ViT encoder
// of CLIP uses it (transformers modeling_clip.py CLIPAttention with attention_mask = causal_attention_mask = None:
// softmax(q k^T * head_dim^-0.5) v per head). Every token of a sequence sees every token of the same sequence and
// nothing of the others. Parallel over (sequence, token, head); score rows live in the context's per-thread scratch.
using System.Runtime.CompilerServices;

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
}
