// The activation workspace of a batched DeepSeek decode step (continuous batching): up to MaxBatch sequences advance
// one token each, their rows stacked so every projection, the router and each chosen expert are applied once for all
// of them. Each sequence keeps its own latent cache in its own DeepSeekState; the workspace is sized once and shared.
namespace Furnace.Models.DeepSeek;

public sealed class DeepSeekBatch : IDecoderBatch
{
    public DeepSeekBatch(DeepSeekConfig c, int maxBatch)
    {
        // the rows' activations; its own one-position cache is never used (attention reads each sequence's state)
        Workspace = new DeepSeekState(c, contextLength: 1, maxBatch);
        VocabSize = c.VocabSize;
        StepStates = new DeepSeekState[maxBatch];
    }

    public int MaxBatch => Workspace.MaxBatch;

    public int VocabSize { get; }

    internal DeepSeekState Workspace { get; }

    // the step's states as DeepSeekState, for IDecoder.ForwardBatch (filled and cleared per step)
    internal DeepSeekState[] StepStates { get; }

    /// <summary>The logits row of sequence b after the last step.</summary>
    public Span<float> LogitsOf(int b) => Workspace.Logits.AsSpan(b * VocabSize, VocabSize);
}
