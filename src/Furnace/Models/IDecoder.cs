// What generation, `furnace logits` and the chat engines need of a decoder LLM, whatever its architecture: the
// Llama family (LlamaModel) or DeepSeek-V2/V3 with MLA and DeepSeekMoE (DeepSeekModel). Each architecture keeps its
// own Config/Weights/State; this is only the seam between them and the code that drives a forward pass.
using Furnace.Tensors;

namespace Furnace.Models;

/// <summary>The per-sequence buffers of a decoder (activations and KV cache), sized once.</summary>
public interface IDecoderState
{
    int ContextLength { get; }

    int MaxBatch { get; }

    /// <summary>Positions already held in the KV cache.</summary>
    int Position { get; set; }

    /// <summary>(MaxBatch, vocab) logits written by the last Forward.</summary>
    float[] Logits { get; }

    long KvCacheBytes { get; }

    void Reset();
}

/// <summary>
/// The shared activation workspace of batched decode steps (continuous batching): up to MaxBatch sequences, each with
/// its own IDecoderState, advance one token each per step; sized once, so a step allocates nothing.
/// </summary>
public interface IDecoderBatch
{
    int MaxBatch { get; }

    /// <summary>The logits row of sequence b after the last step.</summary>
    Span<float> LogitsOf(int b);
}

public interface IDecoder : IDisposable
{
    /// <summary>The GGUF general.architecture name (llama, qwen2, deepseek2).</summary>
    string Architecture { get; }

    int Dim { get; }

    int Layers { get; }

    int VocabSize { get; }

    /// <summary>Context length the model was trained for.</summary>
    int MaxPositions { get; }

    long ParameterCount { get; }

    IDecoderState NewDecoderState(int contextLength, int maxBatch = 64);

    /// <summary>
    /// Evaluates tokens at positions state.Position.. and appends them to the KV cache. Writes logits of the last
    /// token to state.Logits[0..vocab), or of every token (row i for tokens[i]) when allLogits is set, in which case
    /// tokens.Length must not exceed state.MaxBatch.
    /// </summary>
    void Forward(ReadOnlySpan<int> tokens, IDecoderState state, KernelContext ctx, bool allLogits = false);

    /// <summary>As Forward, from input embeddings x (n, dim) instead of token ids.</summary>
    void ForwardEmbeddings(ReadOnlySpan<float> x, IDecoderState state, KernelContext ctx, bool allLogits = false);

    /// <summary>dst (tokens.Length, dim) = rows of the token embedding.</summary>
    void Embed(ReadOnlySpan<int> tokens, Span<float> dst);

    /// <summary>A workspace for ForwardBatch steps of up to maxBatch sequences.</summary>
    IDecoderBatch NewDecoderBatch(int maxBatch);

    /// <summary>
    /// One decode step of B = tokens.Length independent sequences: token b is appended to states[b] at that state's
    /// own position; every weight matrix is applied once to the B stacked rows, attention is per sequence over its own
    /// cache. Writes batch.LogitsOf(b) and advances each state by one.
    /// </summary>
    void ForwardBatch(ReadOnlySpan<int> tokens, ReadOnlySpan<IDecoderState> states, IDecoderBatch batch, KernelContext ctx);
}

/// <summary>The argument checks every decoder's ForwardBatch makes before touching its workspace.</summary>
public static class DecoderBatchArguments
{
    /// <summary>
    /// One token per sequence, at most maxBatch sequences, each with room for one more position, none twice; returns
    /// the longest context length among the states.
    /// </summary>
    public static int Check<TState>(ReadOnlySpan<int> tokens, ReadOnlySpan<TState> states, int maxBatch) where TState : class, IDecoderState
    {
        int n = tokens.Length;
        if (n == 0) throw new ArgumentException("no sequences to advance");
        if (states.Length != n) throw new ArgumentException($"{n} tokens for {states.Length} sequences");
        if (n > maxBatch) throw new ArgumentException($"{n} sequences exceed the batch workspace of {maxBatch}");
        int longest = 0;
        for (int b = 0; b < n; b++)
        {
            if (states[b].Position + 1 > states[b].ContextLength)
                throw new FurnaceException($"{states[b].Position + 1} tokens exceed the context length {states[b].ContextLength}");
            for (int o = 0; o < b; o++)
            {
                if (ReferenceEquals(states[o], states[b])) throw new ArgumentException("a sequence appears twice in one batch");
            }
            longest = Math.Max(longest, states[b].ContextLength);
        }
        return longest;
    }
}
