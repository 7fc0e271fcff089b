// Causal scaled-dot-product attention with grouped-query heads over an f32 KV cache.
// Query row i sits at position startPos + i and sees cache positions 0..startPos+i.
namespace Furnace.Tensors;

public static class Attention
{
    // output (t, nHead*hd) = softmax(q k^T / sqrt(hd) + causal) v
    // q (t, nHead*hd); kCache, vCache (>= startPos+t, nKvHead*hd); scores: scratch of >= startPos+t floats per thread
    public static void Causal(Span<float> output, ReadOnlySpan<float> q, ReadOnlySpan<float> kCache, ReadOnlySpan<float> vCache,
        int startPos, int t, int nHead, int nKvHead, int headDim, KernelContext ctx)
    {
        if (nHead % nKvHead != 0) throw new ArgumentException($"{nHead} query heads are not a multiple of {nKvHead} kv heads");
        int group = nHead / nKvHead;
        int kvDim = nKvHead * headDim, qDim = nHead * headDim;
        float scale = 1f / MathF.Sqrt(headDim);
        float[] scores = new float[startPos + t];
        for (int i = 0; i < t; i++)
        {
            int n = startPos + i + 1;
            for (int h = 0; h < nHead; h++)
            {
                ReadOnlySpan<float> qh = q.Slice(i * qDim + h * headDim, headDim);
                int kvh = h / group;
                for (int p = 0; p < n; p++)
                {
                    ReadOnlySpan<float> k = kCache.Slice(p * kvDim + kvh * headDim, headDim);
                    float s = 0;
                    for (int d = 0; d < headDim; d++) s += qh[d] * k[d];
                    scores[p] = s * scale;
                }
                Ops.Softmax(scores.AsSpan(0, n));
                Span<float> o = output.Slice(i * qDim + h * headDim, headDim);
                o.Clear();
                for (int p = 0; p < n; p++)
                {
                    ReadOnlySpan<float> v = vCache.Slice(p * kvDim + kvh * headDim, headDim);
                    float w = scores[p];
                    for (int d = 0; d < headDim; d++) o[d] += w * v[d];
                }
            }
        }
    }
}
