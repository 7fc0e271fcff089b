// How the next token is chosen. Defaults follow llama.cpp's common sampling parameters.
namespace Furnace.Generation;

public sealed record SamplingOptions
{
    /// <summary>0 or less: greedy (argmax).</summary>
    public float Temperature { get; init; } = 0.8f;

    /// <summary>Keep the k most likely tokens; 0 disables.</summary>
    public int TopK { get; init; } = 40;

    /// <summary>Keep the smallest set whose probability reaches p; 1 disables.</summary>
    public float TopP { get; init; } = 0.95f;

    /// <summary>Drop tokens less likely than min_p × the most likely one; 0 disables.</summary>
    public float MinP { get; init; } = 0.05f;

    /// <summary>CTRL-style repetition penalty on the last RepeatLastN tokens; 1 disables.</summary>
    public float RepeatPenalty { get; init; } = 1.0f;

    public int RepeatLastN { get; init; } = 64;

    public ulong Seed { get; init; } = 0x5EED;

    public static SamplingOptions Greedy { get; } = new() { Temperature = 0 };

    public SamplingOptions Validated()
    {
        if (float.IsNaN(Temperature) || Temperature > 100) throw new FurnaceException($"--temperature {Temperature} is out of range (0..100)");
        if (TopK < 0) throw new FurnaceException($"--top-k {TopK} must be >= 0");
        if (!(TopP > 0 && TopP <= 1)) throw new FurnaceException($"--top-p {TopP} must be in (0, 1]");
        if (!(MinP >= 0 && MinP < 1)) throw new FurnaceException($"--min-p {MinP} must be in [0, 1)");
        if (!(RepeatPenalty > 0 && RepeatPenalty <= 10)) throw new FurnaceException($"--repeat-penalty {RepeatPenalty} must be in (0, 10]");
        if (RepeatLastN < 0) throw new FurnaceException($"--repeat-last-n {RepeatLastN} must be >= 0");
        return this;
    }
}
