// Plain multi-head attention of the DeepSeekMoE models without MLA: DeepSeek-MoE-16B (HF DeepseekForCausalLM,
// llama.cpp's LLM_ARCH_DEEPSEEK graph in src/models/deepseek.cpp) and deepseek-vl2-tiny's decoder (DeepseekV2Config
// with use_mla false, which DeepSeek-VL2's modeling_deepseek.py runs with transformers' LlamaAttention). Llama-style:
//   q = W_q·rms(x) (heads, head), k = W_k·rms(x), v = W_v·rms(x) (kvHeads, head)
//   q, k = rope(q, p), rope(k, p) over the whole head (adjacent pairs on GGUF weights, rotate_half on HF weights)
//   cache[p] = (k, v) per kv head; o = softmax(q·kᵀ/sqrt(head)) v with heads sharing a kv head in groups (GQA)
// The rest of the layer (norms, W_o, the dense FFN or DeepSeekMoE) is DeepSeekModel's, shared with MLA.
using Furnace.Tensors;

namespace Furnace.Models.DeepSeek;

internal static class DeepSeekMhaAttention
{
    /// <summary>
    /// Attention for the n rows of s.XNorm (s the workspace), row i at position DeepSeekModel.PositionOf(caches, i) of
    /// cache DeepSeekModel.CacheOf(caches, i) — one cache for a prefill chunk, n for a batched decode step: appends their
    /// keys and values to layer l of those caches and leaves the per-head outputs (n, heads, head) in s.AttnOut.
    /// </summary>
    public static void Forward(DeepSeekConfig c, DeepSeekRope rope, int n, DeepSeekState s, ReadOnlySpan<DeepSeekState> caches, int l,
        DeepSeekLayerWeights w, KernelContext ctx)
    {
        int h = c.Heads, kvh = c.KvHeads, hd = c.QkHeadDim, qDim = h * hd, kvDim = kvh * hd;
        ReadOnlySpan<float> xn = s.XNorm.AsSpan(0, n * c.Dim);
        Span<float> q = s.Q.AsSpan(0, n * qDim), k = s.Kv.AsSpan(0, n * kvDim), v = s.Kv.AsSpan(n * kvDim, n * kvDim);
        MatMul.Forward(q, xn, n, w.Wq!.Value, ctx);
        MatMul.Forward(k, xn, n, w.Wk!.Value, ctx);
        MatMul.Forward(v, xn, n, w.Wv!.Value, ctx);
        for (int i = 0; i < n; i++)
        {
            DeepSeekState cache = DeepSeekModel.CacheOf(caches, i);
            int pos = DeepSeekModel.PositionOf(caches, i);
            rope.Apply(q.Slice(i * qDim, qDim), h, hd, 0, pos);
            Span<float> ki = k.Slice(i * kvDim, kvDim);
            rope.Apply(ki, kvh, hd, 0, pos);
            ki.CopyTo(cache.KeyCache[l].AsSpan(pos * kvDim, kvDim));
            v.Slice(i * kvDim, kvDim).CopyTo(cache.ValueCache[l].AsSpan(pos * kvDim, kvDim));
        }
        if (caches.Length == 1)
        {
            Attention.Causal(s.AttnOut.AsSpan(0, n * qDim), q, caches[0].KeyCache[l], caches[0].ValueCache[l], caches[0].Position, n, h, kvh, hd, ctx);
            return;
        }
        // a batched decode step: each row attends over its own sequence's cache
        for (int i = 0; i < n; i++)
        {
            DeepSeekState cache = caches[i];
            Attention.Causal(s.AttnOut.AsSpan(i * qDim, qDim), q.Slice(i * qDim, qDim), cache.KeyCache[l], cache.ValueCache[l], cache.Position, 1, h, kvh, hd, ctx);
        }
    }
}
