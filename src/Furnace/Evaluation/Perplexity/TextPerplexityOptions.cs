// The knobs of llama.cpp's perplexity method (llama-perplexity -c/--chunks/-b).
namespace Furnace.Evaluation.Perplexity;

public sealed record TextPerplexityOptions
{
    /// <summary>n_ctx: tokens per chunk (llama-perplexity's default is 512).</summary>
    public int Context { get; init; } = 512;

    /// <summary>Most chunks to score; null: every whole chunk of the text.</summary>
    public int? Chunks { get; init; }

    /// <summary>Tokens per forward call within a chunk; 0: the whole chunk at once (llama.cpp's n_batch = min(n_batch, n_ctx)).</summary>
    public int Batch { get; init; }

    public TextPerplexityOptions Validated()
    {
        if (Context < 4) throw new FurnaceException($"--ctx {Context} is too small (at least 4: the second half of each chunk is scored)");
        if (Chunks is int c && c < 1) throw new FurnaceException($"--chunks {c} must be at least 1");
        if (Batch < 0) throw new FurnaceException($"--batch {Batch} must be positive");
        return this;
    }

    public int EffectiveBatch => Batch == 0 ? Context : Math.Min(Batch, Context);
}
