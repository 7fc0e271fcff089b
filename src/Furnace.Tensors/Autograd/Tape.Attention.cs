// Fused scaled-dot-product attention of the tape, per sequence and head, grouped-query (query head h reads kv head
// h / (heads / kvHeads)), causal (query i sees keys 0..i of its sequence) or bidirectional, scale 1/√hd:
//   forward   P = softmax(q kᵀ·scale [+ causal mask]),  o = P v          saved: lse = log Σ exp per row (batch, heads, seq)
//   backward  P recomputed as exp(q kᵀ·scale − lse),  dP = dO vᵀ,  dS = P ⊙ (dP − rowsum(P ⊙ dP)),
//             dq = dS k·scale,  dk = dSᵀ q·scale,  dv = Pᵀ dO
// (FlashAttention-2's backward equations. Recomputing P costs one more q·k per pair but keeps the saved state
// O(seq) instead of O(seq²): a LLaVA sequence of ~700 tokens with 32 heads would otherwise hold 60M floats a layer.)
// Forward runs in parallel over (sequence, head); backward over (sequence, kv head), so the query heads that share
// a kv head accumulate into its dk/dv on one thread.
namespace Furnace.Tensors.Autograd;

public sealed unsafe partial class Tape
{
    private Tensor AttentionCore(Tensor q, Tensor k, Tensor v, int batch, int seq, int heads, int kvHeads, bool causal)
    {
        Check(batch > 0 && seq > 0 && heads > 0 && kvHeads > 0 && heads % kvHeads == 0,
            $"attention: batch {batch}, seq {seq}, heads {heads}, kv heads {kvHeads} (heads must be a multiple of kv heads)");
        (int nq, int qDim) = Matrix(q);
        (int nk, int kvDim) = Matrix(k);
        Check(nq == batch * seq && qDim % heads == 0, $"attention: q {S(q)} is not ({batch}*{seq}, {heads}*hd)");
        int hd = qDim / heads;
        Check(nk == nq && kvDim == kvHeads * hd, $"attention: k {S(k)} is not ({batch}*{seq}, {kvHeads}*{hd})");
        Check(v.Length == k.Length && v.Shape[^1] == kvDim, $"attention: v {S(v)} does not match k {S(k)}");
        bool record = Records(q, k, v);
        Tensor o = Output((int[])q.Shape.Clone(), record);
        int rowsLse = checked(batch * heads * seq);
        float[] lse = Enabled ? Rent(rowsLse) : new float[rowsLse];
        float scale = 1f / MathF.Sqrt(hd);
        fixed (float* po = o.Data, pq = q.Data, pk = k.Data, pv = v.Data, pp = lse)
        {
            var args = new Args { A = po, B = pq, C = pk, D = pv, E = pp, N = seq, M = heads, K = kvHeads, L = hd, P = causal ? 1 : 0, S = scale };
            For(batch * heads, &AttnFwd, ref args);
        }
        if (!record) return o;
        Record(() =>
        {
            if (o.Grad is not { } go) return;
            float[]? gq = GradOf(q), gk = GradOf(k), gv = GradOf(v);
            if (gq == null && gk == null && gv == null) return;
            fixed (float* pgo = go, pq = q.Data, pk = k.Data, pv = v.Data, pp = lse, pgq = gq, pgk = gk, pgv = gv)
            {
                var args = new Args
                {
                    A = pgo, B = pq, C = pk, D = pv, E = pp, N = seq, M = heads, K = kvHeads, L = hd, P = causal ? 1 : 0, S = scale,
                };
                var g = new AttnGrads { Q = pgq, K = pgk, V = pgv };
                args.Idx = (int*)&g;
                For(batch * kvHeads, &AttnBwd, ref args);
            }
        });
        return o;
    }

    private struct AttnGrads
    {
        public float* Q, K, V;
    }

    // items (b, h): outputs and row log-sum-exps of head h of sequence b
    private static void AttnFwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        int seq = a->N, heads = a->M, hd = a->L, group = heads / a->K;
        int qDim = heads * hd, kvDim = a->K * hd;
        float* pi = stackalloc float[seq]; // probabilities of one query row
        for (int item = start; item < end; item++)
        {
            int b = item / heads, h = item % heads;
            long first = (long)b * seq;
            long kvOff = (long)(h / group) * hd;
            for (int i = 0; i < seq; i++)
            {
                int n = a->P != 0 ? i + 1 : seq;
                float* qi = a->B + (first + i) * qDim + h * hd;
                for (int j = 0; j < n; j++)
                    pi[j] = MatMulFloat.Dot<F32Load>((byte*)(a->C + (first + j) * kvDim + kvOff), qi, hd) * a->S;
                float max = RowMax(pi, n);
                a->E[(long)item * seq + i] = max + (float)Math.Log(SumExp(pi, n, max));
                Ops.SoftmaxVec(new Span<float>(pi, n));
                float* oi = a->A + (first + i) * qDim + h * hd;
                new Span<float>(oi, hd).Clear();
                for (int j = 0; j < n; j++) Vec.Axpy(oi, pi[j], a->D + (first + j) * kvDim + kvOff, hd);
            }
        }
    }

    // items (b, kvh): every query head of the group, accumulating into dq rows and the shared dk/dv rows
    private static void AttnBwd(int start, int end, void* p)
    {
        var a = (Args*)p;
        var g = (AttnGrads*)a->Idx;
        int seq = a->N, heads = a->M, kvHeads = a->K, hd = a->L, group = heads / kvHeads;
        int qDim = heads * hd, kvDim = kvHeads * hd;
        float scale = a->S;
        float* dp = stackalloc float[seq]; // dP row of one query
        float* pi = stackalloc float[seq]; // its recomputed probabilities
        for (int item = start; item < end; item++)
        {
            int b = item / kvHeads, kvh = item % kvHeads;
            long first = (long)b * seq;
            long kvOff = (long)kvh * hd;
            for (int h = kvh * group; h < (kvh + 1) * group; h++)
            {
                for (int i = 0; i < seq; i++)
                {
                    int n = a->P != 0 ? i + 1 : seq;
                    long qOff = (first + i) * qDim + h * hd;
                    float* doi = a->A + qOff, qi = a->B + qOff;
                    float lse = a->E[((long)b * heads + h) * seq + i];
                    for (int j = 0; j < n; j++)
                        pi[j] = MathF.Exp(MatMulFloat.Dot<F32Load>((byte*)(a->C + (first + j) * kvDim + kvOff), qi, hd) * scale - lse);
                    if (g->V != null)
                        for (int j = 0; j < n; j++) Vec.Axpy(g->V + (first + j) * kvDim + kvOff, pi[j], doi, hd);
                    if (g->Q == null && g->K == null) continue;
                    double dot = 0;
                    for (int j = 0; j < n; j++)
                    {
                        dp[j] = MatMulFloat.Dot<F32Load>((byte*)(a->D + (first + j) * kvDim + kvOff), doi, hd);
                        dot += (double)pi[j] * dp[j];
                    }
                    float d = (float)dot;
                    for (int j = 0; j < n; j++)
                    {
                        float ds = pi[j] * (dp[j] - d) * scale;
                        if (ds == 0) continue;
                        if (g->Q != null) Vec.Axpy(g->Q + qOff, ds, a->C + (first + j) * kvDim + kvOff, hd);
                        if (g->K != null) Vec.Axpy(g->K + (first + j) * kvDim + kvOff, ds, qi, hd);
                    }
                }
            }
        }
    }
}
