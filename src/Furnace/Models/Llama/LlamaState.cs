// Activation buffers and the KV cache of one sequence (llama2.c's RunState): sized once for a context length
// and a prefill chunk, so that decoding allocates nothing.
namespace Furnace.Models.Llama;

public sealed class LlamaState
{
    public LlamaState(LlamaConfig c, int contextLength, int maxBatch = 64)
    {
        if (contextLength <= 0) throw new FurnaceException($"context length {contextLength} must be positive");
        if (maxBatch <= 0) throw new FurnaceException($"batch size {maxBatch} must be positive");
        ContextLength = contextLength;
        MaxBatch = maxBatch;
        X = new float[maxBatch * c.Dim];
        XNorm = new float[maxBatch * c.Dim];
        Q = new float[maxBatch * c.QDim];
        K = new float[maxBatch * c.KvDim];
        V = new float[maxBatch * c.KvDim];
        AttnOut = new float[maxBatch * c.QDim];
        Proj = new float[maxBatch * c.Dim];
        Gate = new float[maxBatch * c.FfnDim];
        Up = new float[maxBatch * c.FfnDim];
        Logits = new float[maxBatch * c.VocabSize];
        KeyCache = new float[c.Layers][];
        ValueCache = new float[c.Layers][];
        for (int l = 0; l < c.Layers; l++)
        {
            KeyCache[l] = new float[(long)contextLength * c.KvDim];
            ValueCache[l] = new float[(long)contextLength * c.KvDim];
        }
    }

    public int ContextLength { get; }

    public int MaxBatch { get; }

    /// <summary>Positions already held in the KV cache.</summary>
    public int Position { get; set; }

    public float[] X { get; }        // (batch, dim) residual stream
    public float[] XNorm { get; }    // (batch, dim)
    public float[] Q { get; }        // (batch, qDim)
    public float[] K { get; }        // (batch, kvDim)
    public float[] V { get; }        // (batch, kvDim)
    public float[] AttnOut { get; }  // (batch, qDim)
    public float[] Proj { get; }     // (batch, dim)
    public float[] Gate { get; }     // (batch, ffn)
    public float[] Up { get; }       // (batch, ffn)
    public float[] Logits { get; }   // (batch, vocab)
    public float[][] KeyCache { get; }   // [layer] (ctx, kvDim)
    public float[][] ValueCache { get; } // [layer] (ctx, kvDim)

    public long KvCacheBytes => 2L * KeyCache.Length * KeyCache[0].LongLength * sizeof(float);

    public void Reset() => Position = 0;
}
