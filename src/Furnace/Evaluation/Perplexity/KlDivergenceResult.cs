// The KL-divergence figures of llama.cpp's perplexity tool (--kl-divergence): per scored token, base = the reference
// model (e.g. F32), model = the one under test (e.g. its Q4_0 quantization). Log quantities in nats.
namespace Furnace.Evaluation.Perplexity;

public sealed record KlDivergenceResult
{
    /// <summary>Scored tokens.</summary>
    public required int Count { get; init; }

    /// <summary>PPL(Q): exp of the model's mean NLL.</summary>
    public required double Ppl { get; init; }

    /// <summary>PPL(base).</summary>
    public required double PplBase { get; init; }

    /// <summary>Mean ln(PPL(Q)/PPL(base)) and its uncertainty (with the covariance of the two).</summary>
    public required double LogPplRatio { get; init; }

    public required double LogPplRatioUncertainty { get; init; }

    /// <summary>Mean KL(base ‖ model) per token and its standard error (0 below 11 tokens, as llama.cpp).</summary>
    public required double MeanKld { get; init; }

    public required double MeanKldUncertainty { get; init; }

    public required double MedianKld { get; init; }

    public required double MaxKld { get; init; }

    public required double MinKld { get; init; }

    /// <summary>99th, 95th and 90th percentiles of the per-token KL divergence.</summary>
    public required double Kld99 { get; init; }

    public required double Kld95 { get; init; }

    public required double Kld90 { get; init; }

    /// <summary>Mean of p_model(token) − p_base(token) over scored tokens, a probability (not %).</summary>
    public required double MeanDeltaP { get; init; }

    public required double RmsDeltaP { get; init; }

    public required double MaxAbsDeltaP { get; init; }

    /// <summary>Fraction of tokens where both models' most likely token is the same ("Same top p"), and its error.</summary>
    public required double SameTopP { get; init; }

    public required double SameTopPUncertainty { get; init; }
}
