// Activation buffers and the KV cache of one sequence (llama2.c's RunState): sized once for a context length
// and a prefill chunk (the rows of its LlamaWorkspace), so that decoding allocates nothing.
namespace Furnace.Models.Llama;

public sealed class LlamaState : LlamaWorkspace, IDecoderState
{
    public LlamaState(LlamaConfig c, int contextLength, int maxBatch = 64)
        : base(c, contextLength > 0 ? maxBatch : throw new FurnaceException($"context length {contextLength} must be positive"))
    {
        ContextLength = contextLength;
        KeyCache = new float[c.Layers][];
        ValueCache = new float[c.Layers][];
        for (int l = 0; l < c.Layers; l++)
        {
            KeyCache[l] = new float[(long)contextLength * c.KvDim];
            ValueCache[l] = new float[(long)contextLength * c.KvDim];
        }
    }

    public int ContextLength { get; }

    /// <summary>Positions already held in the KV cache.</summary>
    public int Position { get; set; }

    public float[][] KeyCache { get; }   // [layer] (ctx, kvDim)
    public float[][] ValueCache { get; } // [layer] (ctx, kvDim)

    public long KvCacheBytes => 2L * KeyCache.Length * KeyCache[0].LongLength * sizeof(float);

    public void Reset() => Position = 0;
}
