// The CLIP transformer encoder (transformers modeling_clip.py CLIPEncoder / CLIPEncoderLayer), pre-norm:
//   x += out_proj(attn(q_proj(ln1(x)), k_proj(ln1(x)), v_proj(ln1(x))))      scale head_dim^-0.5
//   x += fc2(act(fc1(ln2(x))))
// Vision attends bidirectionally within each image; text is causal (CLIP's causal_attention_mask). Every
// projection is one GEMM over all tokens of the batch; row-wise norms and activations run on the kernel threads.
// With pre-packed f32 layers (ClipLayerPanels) the projections run on MatMulPanel: q, k and v in one region, biases
// and the two residual adds in the GEMM epilogues (out_proj and fc2 write straight into the residual stream), and
// the layer norms and the activation pass write their rows straight into the next GEMM's packed input.
using Furnace.Tensors;

namespace Furnace.Models.Clip;

internal static class ClipEncoder
{
    // s.X (batch*seqLen, d) in and out: hidden_states[first] -> hidden_states[first + count]
    public static void Run(ClipEncoderLayerWeights[] layers, int first, int count, ClipEncoderState s, int batch, int seqLen,
        bool causal, int heads, float eps, ClipActivation act, KernelContext ctx, ClipLayerPanels[]? panels = null)
    {
        if (causal && batch != 1) throw new ArgumentException("causal attention runs one sequence at a time");
        int n = batch * seqLen;
        int d = layers[0].Wq.Cols, ffn = layers[0].Fc1.Rows;
        Span<float> q = s.Q.AsSpan(0, n * d), k = s.K.AsSpan(0, n * d), v = s.V.AsSpan(0, n * d);
        Span<float> att = s.AttnOut.AsSpan(0, n * d), proj = s.Proj.AsSpan(0, n * d);
        Span<float> xn = s.XNorm.AsSpan(0, n * d), h = s.Hidden.AsSpan(0, n * ffn);
        for (int l = first; l < first + count; l++)
        {
            ClipEncoderLayerWeights w = layers[l];
            ClipLayerPanels? p = panels?[l];
            Span<float> x = s.X.AsSpan(0, n * d);
            if (p != null)
            {
                // ln1 writes its rows straight into the GEMM's packed layout; biases in the GEMM epilogue
                PanelInput xin = MatMulPanel.Input(ctx, n, d);
                LayerNormRows(s.XNorm, s.X, n, d, w.Norm1Weight, w.Norm1Bias, eps, ctx, xin);
                MatMulPanel.Forward3(q, k, v, xin, p.Wq, p.Wk, p.Wv, w.Bq, w.Bk, w.Bv, ctx);
            }
            else
            {
                LayerNormRows(s.XNorm, s.X, n, d, w.Norm1Weight, w.Norm1Bias, eps, ctx);
                MatMul.Forward(q, xn, n, w.Wq, ctx);
                MatMul.Forward(k, xn, n, w.Wk, ctx);
                MatMul.Forward(v, xn, n, w.Wv, ctx);
                var qkvBias = new QkvBiasJob { Q = s.Q, K = s.K, V = s.V, Bq = w.Bq, Bk = w.Bk, Bv = w.Bv };
                ctx.Run(ref qkvBias, n);
            }
            if (causal) Attention.Causal(att, q, k, v, 0, n, heads, heads, d / heads, ctx);
            else Attention.Bidirectional(att, q, k, v, batch, seqLen, heads, d / heads, ctx);
            if (p != null) MatMulPanel.Forward(x, att, n, p.Wo, w.Bo, accumulate: true, ctx); // x += out_proj(att) + b
            else
            {
                MatMul.Forward(proj, att, n, w.Wo, ctx);
                var attnResidual = new ResidualJob { X = s.X, P = s.Proj, B = w.Bo };
                ctx.Run(ref attnResidual, n);
            }

            if (p != null)
            {
                PanelInput xin = MatMulPanel.Input(ctx, n, d);
                LayerNormRows(s.XNorm, s.X, n, d, w.Norm2Weight, w.Norm2Bias, eps, ctx, xin);
                MatMulPanel.Forward(h, xin, p.Fc1, w.Fc1Bias, accumulate: false, ctx);
                PanelInput hin = MatMulPanel.Input(ctx, n, ffn); // the activation pass packs fc2's input
                var packedAct = new BiasActivationJob { H = s.Hidden, Bias = null, Cols = ffn, Act = act, Packed = hin, Pack = true };
                ctx.Run(ref packedAct, n);
                MatMulPanel.Forward(x, hin, p.Fc2, w.Fc2Bias, accumulate: true, ctx); // x += fc2(h) + b
            }
            else
            {
                LayerNormRows(s.XNorm, s.X, n, d, w.Norm2Weight, w.Norm2Bias, eps, ctx);
                MatMul.Forward(h, xn, n, w.Fc1, ctx);
                var actJob = new BiasActivationJob { H = s.Hidden, Bias = w.Fc1Bias, Cols = ffn, Act = act };
                ctx.Run(ref actJob, n);
                MatMul.Forward(proj, h, n, w.Fc2, ctx);
                var mlpResidual = new ResidualJob { X = s.X, P = s.Proj, B = w.Fc2Bias };
                ctx.Run(ref mlpResidual, n);
            }
        }
    }

    // y rows [0, n) = LayerNorm(x rows), each of d values; y may be x
    public static void LayerNormRows(float[] y, float[] x, int n, int d, float[] weight, float[] bias, float eps, KernelContext ctx)
    {
        var job = new LayerNormJob { Y = y, X = x, W = weight, B = bias, Dim = d, Eps = eps };
        ctx.Run(ref job, n);
    }

    // LayerNormRows, each row also packed into a MatMulPanel input (y keeps the row-major copy)
    private static void LayerNormRows(float[] y, float[] x, int n, int d, float[] weight, float[] bias, float eps, KernelContext ctx, PanelInput packed)
    {
        var job = new LayerNormJob { Y = y, X = x, W = weight, B = bias, Dim = d, Eps = eps, Packed = packed, Pack = true };
        ctx.Run(ref job, n);
    }

    // y (n, len(b)) += b per row
    public static void AddBias(Span<float> y, float[] b, int n)
    {
        for (int i = 0; i < n; i++) Ops.Add(y.Slice(i * b.Length, b.Length), b);
    }

    // rows of q, k, v += their biases
    private struct QkvBiasJob : IParallelJob
    {
        public float[] Q, K, V, Bq, Bk, Bv;

        public readonly void Execute(int start, int end, int thread)
        {
            int d = Bq.Length;
            for (int r = start; r < end; r++)
            {
                Ops.Add(Q.AsSpan(r * d, d), Bq);
                Ops.Add(K.AsSpan(r * d, d), Bk);
                Ops.Add(V.AsSpan(r * d, d), Bv);
            }
        }
    }

    // residual rows: x += p + b
    internal struct ResidualJob : IParallelJob
    {
        public float[] X, P, B;

        public readonly void Execute(int start, int end, int thread)
        {
            int d = B.Length;
            for (int r = start; r < end; r++)
            {
                Span<float> p = P.AsSpan(r * d, d);
                Ops.Add(p, B);
                Ops.Add(X.AsSpan(r * d, d), p);
            }
        }
    }

    private struct LayerNormJob : IParallelJob
    {
        public float[] Y, X, W, B;
        public int Dim;
        public float Eps;
        public PanelInput Packed;
        public bool Pack;

        public readonly void Execute(int start, int end, int thread)
        {
            for (int r = start; r < end; r++)
            {
                Span<float> y = Y.AsSpan(r * Dim, Dim);
                Ops.LayerNorm(y, X.AsSpan(r * Dim, Dim), W, B, Eps);
                if (Pack) Packed.PackRow(r, y);
            }
        }
    }

    // h rows = act(h + bias), or act(h) without a bias (already added by the GEMM's epilogue)
    private struct BiasActivationJob : IParallelJob
    {
        public float[] H;
        public float[]? Bias;
        public int Cols;
        public ClipActivation Act;
        public PanelInput Packed; // with Pack, rows also go into this MatMulPanel input
        public bool Pack;

        public readonly void Execute(int start, int end, int thread)
        {
            if (Bias != null)
                for (int r = start; r < end; r++) Ops.Add(H.AsSpan(r * Cols, Cols), Bias);
            Span<float> rows = H.AsSpan(start * Cols, (end - start) * Cols);
            switch (Act)
            {
                case ClipActivation.QuickGelu: Ops.QuickGelu(rows); break;
                case ClipActivation.GeluErf: Ops.GeluErf(rows); break;
                default: Ops.GeluTanh(rows); break;
            }
            if (Pack)
                for (int r = start; r < end; r++) Packed.PackRow(r, H.AsSpan(r * Cols, Cols));
        }
    }
}
