// Causal scaled-dot-product attention with grouped-query heads over an f32 KV cache (llama2.c run.c attention
// loop; ggml's non-flash path: kq = k.q * 1/sqrt(hd), softmax, kqv). Query row i sits at position startPos + i and
// sees cache positions 0..startPos+i. Parallel over (token, head) pairs; score rows live in the context's
// per-thread scratch.
using System.Runtime.CompilerServices;

namespace Furnace.Tensors;

public static unsafe partial class Attention
{
    // output (t, nHead*hd) = softmax(q k^T / sqrt(hd) + causal) v
    // q (t, nHead*hd); kCache, vCache (>= startPos+t, nKvHead*hd)
    public static void Causal(Span<float> output, ReadOnlySpan<float> q, ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache,
        int startPos, int t, int nHead, int nKvHead, int headDim, KernelContext ctx)
    {
        if (nKvHead <= 0 || nHead % nKvHead != 0) throw new ArgumentException($"{nHead} query heads are not a multiple of {nKvHead} kv heads");
        int kvDim = nKvHead * headDim, qDim = nHead * headDim, positions = startPos + t;
        if (q.Length < (long)t * qDim) throw new ArgumentException($"q holds {q.Length} floats, need {t}x{qDim}");
        if (output.Length < (long)t * qDim) throw new ArgumentException($"output holds {output.Length} floats, need {t}x{qDim}");
        if (kCache.Length < (long)positions * kvDim || vCache.Length < (long)positions * kvDim)
            throw new ArgumentException($"kv cache holds fewer than {positions} positions of {kvDim} floats");
        // per-thread rows padded to a cache line so threads never share one
        int stride = (positions + 15) & ~15;
        var scores = (float*)ctx.Scratch(ScratchSlot.AttentionScores, (long)stride * ctx.Threads * sizeof(float));
        fixed (float* po = output, pq = q, pk = kCache, pv = vCache)
        {
            var job = new Job
            {
                O = po, Q = pq, K = pk, V = pv, Scores = scores, Stride = stride,
                StartPos = startPos, NHead = nHead, Group = nHead / nKvHead, HeadDim = headDim, KvDim = kvDim, QDim = qDim,
                Scale = 1f / MathF.Sqrt(headDim),
            };
            ctx.Run(ref job, t * nHead);
        }
    }

    private struct Job : IParallelJob
    {
        public float* O, Q, K, V, Scores;
        public int Stride, StartPos, NHead, Group, HeadDim, KvDim, QDim;
        public float Scale;

        // items [start, end) of (t, nHead), row-major
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // skip tier-0: kernels are hot from the first call
        public void Execute(int start, int end, int thread)
        {
            float* s = Scores + (long)thread * Stride;
            for (int item = start; item < end; item++)
            {
                int i = item / NHead, h = item % NHead;
                int n = StartPos + i + 1;
                float* qh = Q + (long)i * QDim + h * HeadDim;
                long kvOff = (long)(h / Group) * HeadDim;
                for (int p = 0; p < n; p++) s[p] = MatMulFloat.Dot<F32Load>((byte*)(K + p * (long)KvDim + kvOff), qh, HeadDim) * Scale;
                var row = new Span<float>(s, n);
                Ops.Softmax(row);
                float* o = O + (long)i * QDim + h * HeadDim;
                new Span<float>(o, HeadDim).Clear();
                for (int p = 0; p < n; p++) Vec.Axpy(o, s[p], V + p * (long)KvDim + kvOff, HeadDim);
            }
        }
    }
}
