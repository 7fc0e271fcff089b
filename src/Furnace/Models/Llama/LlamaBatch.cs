// The activation workspace of a batched decode step (continuous batching, as vLLM/llama.cpp's server run it): up to
// MaxBatch independent sequences advance one token each in one pass, their rows stacked (row b = sequence b) so every
// weight matrix is read once for all of them. Each sequence keeps its own KV cache in its own LlamaState, so sequences
// can join and leave between steps; this workspace is sized once and shared, and a step allocates nothing.
namespace Furnace.Models.Llama;

public sealed class LlamaBatch(LlamaConfig c, int maxBatch) : LlamaWorkspace(c, maxBatch), IDecoderBatch
{
    public int VocabSize { get; } = c.VocabSize;

    // the step's states as LlamaState, for IDecoder.ForwardBatch (filled and cleared per step)
    internal LlamaState[] StepStates { get; } = new LlamaState[maxBatch];

    /// <summary>The logits row of sequence b after the last step.</summary>
    public Span<float> LogitsOf(int b) => Logits.AsSpan(b * VocabSize, VocabSize);
}
