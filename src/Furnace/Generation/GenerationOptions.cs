// What to generate: sampling, length and stop conditions.
namespace Furnace.Generation;

public sealed record GenerationOptions
{
    public SamplingOptions Sampling { get; init; } = new();

    public int MaxTokens { get; init; } = 256;

    /// <summary>Generation ends before any of these strings; the string itself is not returned.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    /// <summary>Keep going past end-of-generation tokens (benchmarks).</summary>
    public bool IgnoreEos { get; init; }

    public GenerationOptions Validated()
    {
        Sampling.Validated();
        if (MaxTokens < 1 || MaxTokens > 1 << 20) throw new FurnaceException($"--max-tokens {MaxTokens} must be between 1 and 1048576");
        if (Stop.Any(string.IsNullOrEmpty)) throw new FurnaceException("--stop strings must not be empty");
        return this;
    }
}

/// <summary>Why generation ended: "stop" (end-of-generation token or stop string) or "length" (max tokens or context full).</summary>
public sealed record GenerationResult(string Text, int PromptTokens, int GeneratedTokens, string FinishReason, TimeSpan PrefillTime, TimeSpan DecodeTime)
{
    /// <summary>The generated token ids, end-of-generation token included when one ended the stream.</summary>
    public IReadOnlyList<int> TokenIds { get; init; } = [];

    /// <summary>With --think hide: the R1-style reasoning block taken out of Text (without its tags); null otherwise.</summary>
    public string? Reasoning { get; init; }

    public double PrefillTokensPerSecond => PromptTokens / Math.Max(PrefillTime.TotalSeconds, 1e-9);

    public double DecodeTokensPerSecond => GeneratedTokens / Math.Max(DecodeTime.TotalSeconds, 1e-9);
}
