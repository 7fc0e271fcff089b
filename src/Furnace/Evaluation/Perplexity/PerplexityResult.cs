// The outcome of llama.cpp's perplexity method over a text (TextPerplexity): the figures its tool prints
// ("[i]p" running values, "Final estimate: PPL = P +/- σ") and, when a base model was given, the KL-divergence
// statistics of its --kl-divergence mode.
using System.Globalization;

namespace Furnace.Evaluation.Perplexity;

public sealed record PerplexityResult
{
    /// <summary>exp(NllMean).</summary>
    public required double Ppl { get; init; }

    /// <summary>llama.cpp's statistical error of PPL: PPL · sqrt((⟨nll²⟩ − ⟨nll⟩²)/(count − 1)); NaN when the variance is not positive.</summary>
    public required double PplUncertainty { get; init; }

    /// <summary>Mean negative log-likelihood per scored token, nats.</summary>
    public required double NllMean { get; init; }

    /// <summary>Scored tokens: chunks · (ctx − 1 − ctx/2).</summary>
    public required int Tokens { get; init; }

    /// <summary>Tokens of the whole text (BOS included when the vocabulary adds one).</summary>
    public required int TextTokens { get; init; }

    public required int Chunks { get; init; }

    public required int Context { get; init; }

    /// <summary>exp(mean NLL) after each chunk (llama.cpp's "[i]p" values).</summary>
    public required IReadOnlyList<double> RunningPpl { get; init; }

    /// <summary>KL(base ‖ model) statistics when a base model was given, else null.</summary>
    public KlDivergenceResult? Kl { get; init; }

    /// <summary>llama.cpp's last line: "Final estimate: PPL = %.4lf +/- %.5lf".</summary>
    public string FinalEstimate() => string.Create(CultureInfo.InvariantCulture, $"Final estimate: PPL = {Ppl:F4} +/- {PplUncertainty:F5}");

    /// <summary>llama.cpp's running line: "[1]p1,[2]p2,…" with four decimals.</summary>
    public string RunningLine() =>
        string.Concat(RunningPpl.Select((p, i) => string.Create(CultureInfo.InvariantCulture, $"[{i + 1}]{p:F4},")));
}
