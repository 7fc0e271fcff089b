// The per-row activation buffers of a llama forward pass, sized once for maxBatch rows so that a step allocates
// nothing. LlamaState (one sequence's prefill chunk, with its KV cache) and LlamaBatch (one decode step of up to
// maxBatch sequences, one row each) both hold one.
namespace Furnace.Models.Llama;

public abstract class LlamaWorkspace
{
    private protected LlamaWorkspace(LlamaConfig c, int maxBatch)
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
    }

    public int MaxBatch { get; }

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
}
