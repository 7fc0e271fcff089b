// The activation workspace of a batched decode step (continuous batching, as vLLM/llama.cpp's server run it): up to
// MaxBatch independent sequences advance one token each in one pass, their rows stacked so every weight matrix is
// read once for all of them. Each sequence keeps its own KV cache in its own LlamaState, so sequences can join and
// leave between steps; this workspace is sized once and shared, and a step allocates nothing.
namespace Furnace.Models.Llama;

public sealed class LlamaBatch
{
    public LlamaBatch(LlamaConfig c, int maxBatch)
    {
        if (maxBatch <= 0) throw new FurnaceException($"batch size {maxBatch} must be positive");
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
        Logits = new float[(long)maxBatch * c.VocabSize];
        VocabSize = c.VocabSize;
    }

    public int MaxBatch { get; }

    public int VocabSize { get; }

    public float[] X { get; }        // (batch, dim) residual stream, row b = sequence b
    public float[] XNorm { get; }    // (batch, dim)
    public float[] Q { get; }        // (batch, qDim)
    public float[] K { get; }        // (batch, kvDim)
    public float[] V { get; }        // (batch, kvDim)
    public float[] AttnOut { get; }  // (batch, qDim)
    public float[] Proj { get; }     // (batch, dim)
    public float[] Gate { get; }     // (batch, ffn)
    public float[] Up { get; }       // (batch, ffn)
    public float[] Logits { get; }   // (batch, vocab): row b holds the logits of sequence b after a step

    /// <summary>The logits row of sequence b after the last step.</summary>
    public Span<float> LogitsOf(int b) => Logits.AsSpan(b * VocabSize, VocabSize);
}
