// Activation buffers of a CLIP tower (llama2.c's RunState): sized once for a token capacity (images * tokens per
// image, or the text context) and grown only when a larger batch arrives, so a forward pass allocates nothing.
namespace Furnace.Models.Clip;

public sealed class ClipEncoderState
{
    public ClipEncoderState(int dim, int ffnDim, int maxTokens, int im2colFloats = 0)
    {
        if (maxTokens <= 0) throw new FurnaceException($"token capacity {maxTokens} must be positive");
        MaxTokens = maxTokens;
        X = new float[(long)maxTokens * dim];
        XNorm = new float[(long)maxTokens * dim];
        Q = new float[(long)maxTokens * dim];
        K = new float[(long)maxTokens * dim];
        V = new float[(long)maxTokens * dim];
        AttnOut = new float[(long)maxTokens * dim];
        Proj = new float[(long)maxTokens * dim];
        Hidden = new float[(long)maxTokens * ffnDim];
        Im2Col = new float[im2colFloats];
    }

    public int MaxTokens { get; }

    public float[] X { get; }       // (tokens, d) residual stream
    public float[] XNorm { get; }   // (tokens, d) layer-norm output
    public float[] Q { get; }       // (tokens, d)
    public float[] K { get; }       // (tokens, d)
    public float[] V { get; }       // (tokens, d)
    public float[] AttnOut { get; } // (tokens, d)
    public float[] Proj { get; }    // (tokens, d) out_proj / fc2 output; patch embeddings
    public float[] Hidden { get; }  // (tokens, ffn) MLP hidden
    public float[] Im2Col { get; }  // (images * patches, C*p*p) flattened patches (vision only)
}
