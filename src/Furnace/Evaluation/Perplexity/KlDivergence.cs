// KL(base ‖ model) per scored token and the statistics llama.cpp's perplexity tool prints in --kl-divergence mode
// (tools/perplexity/perplexity.cpp, kl_divergence() and its log_softmax()/mean_and_uncertainty()/percentile helpers;
// ggml-org/llama.cpp @ 050fc7f32de16858ac667d775b43a51ed8976e6f). Two differences, both toward exactness: llama.cpp
// stores the base model's log-probabilities as 16-bit fixed point in a file and drops base terms with
// log p < −16; here both models run live over the same chunks and the sum runs over the whole vocabulary in double.
namespace Furnace.Evaluation.Perplexity;

public sealed class KlDivergence
{
    private double _sumNll, _sumNll2, _sumNllBase, _sumNllBase2, _sumNllNllBase;
    private double _sumKld, _sumKld2, _sumPDiff, _sumPDiff2, _sumPDiff4;
    private double _maxPDiff;
    private int _sameTop, _count;
    private readonly List<double> _klds = [];
    private readonly List<double> _pDiffs = [];

    public int Count => _count;

    /// <summary>Adds one scored position: the base and the model's logits (vocab,) and the token that follows.</summary>
    /// <returns>KL(base ‖ model) at this position, nats.</returns>
    public double Add(ReadOnlySpan<float> baseLogits, ReadOnlySpan<float> logits, int token)
    {
        if (baseLogits.Length != logits.Length)
            throw new FurnaceException($"the base model has {baseLogits.Length} logits per token and the model {logits.Length}: their vocabularies differ");
        var (bMax, bLse) = LogSoftmax.Normalizer(baseLogits);
        var (mMax, mLse) = LogSoftmax.Normalizer(logits);
        double kld = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            double lpBase = baseLogits[i] - bMax - bLse, lp = logits[i] - mMax - mLse;
            kld += Math.Exp(lpBase) * (lpBase - lp);
        }
        double nll = -(logits[token] - mMax - mLse), nllBase = -(baseLogits[token] - bMax - bLse);
        _sumNll += nll;
        _sumNll2 += nll * nll;
        _sumNllBase += nllBase;
        _sumNllBase2 += nllBase * nllBase;
        _sumNllNllBase += nll * nllBase;
        _sumKld += kld;
        _sumKld2 += kld * kld;
        if (LogSoftmax.ArgMax(logits) == LogSoftmax.ArgMax(baseLogits)) _sameTop++;
        double pDiff = Math.Exp(-nll) - Math.Exp(-nllBase);
        _sumPDiff += pDiff;
        _sumPDiff2 += pDiff * pDiff;
        _sumPDiff4 += pDiff * pDiff * pDiff * pDiff;
        _maxPDiff = Math.Max(_maxPDiff, Math.Abs(pDiff));
        _count++;
        _klds.Add(kld);
        _pDiffs.Add(pDiff);
        return kld;
    }

    public KlDivergenceResult Result()
    {
        if (_count == 0) throw new FurnaceException("no scored tokens: KL divergence needs at least one");
        var logPpl = MeanAndUncertainty(_sumNll, _sumNll2, _count);
        var logPplBase = MeanAndUncertainty(_sumNllBase, _sumNllBase2, _count);
        double cov = Covariance(_sumNll, _sumNllBase, _sumNllNllBase, _count);
        var kld = MeanAndUncertainty(_sumKld, _sumKld2, _count);
        var pDiffMse = MeanAndUncertainty(_sumPDiff2, _sumPDiff4, _count);
        double rms = Math.Sqrt(pDiffMse.Mean);
        double sameTop = (double)_sameTop / _count;
        double[] klds = [.. _klds.Order()];
        return new KlDivergenceResult
        {
            Count = _count,
            Ppl = Math.Exp(logPpl.Mean),
            PplBase = Math.Exp(logPplBase.Mean),
            LogPplRatio = logPpl.Mean - logPplBase.Mean,
            LogPplRatioUncertainty = Math.Sqrt(Math.Max(0, logPpl.Uncertainty * logPpl.Uncertainty + logPplBase.Uncertainty * logPplBase.Uncertainty - 2 * cov)),
            MeanKld = kld.Mean,
            MeanKldUncertainty = kld.Uncertainty,
            MedianKld = Median(klds),
            MaxKld = klds[^1],
            MinKld = klds[0],
            Kld99 = Percentile(klds, 0.99),
            Kld95 = Percentile(klds, 0.95),
            Kld90 = Percentile(klds, 0.90),
            MeanDeltaP = _sumPDiff / _count,
            RmsDeltaP = rms,
            MaxAbsDeltaP = _maxPDiff,
            SameTopP = sameTop,
            SameTopPUncertainty = _count > 1 ? Math.Sqrt(sameTop * (1 - sameTop) / (_count - 1)) : 0,
        };
    }

    // llama.cpp's mean_and_uncertainty: the mean and its standard error, 0 for fewer than 11 values
    private static (double Mean, double Uncertainty) MeanAndUncertainty(double sum, double sum2, int count)
    {
        double f = sum / count, df = sum2 / count - f * f;
        return (f, df > 0 && count > 10 ? Math.Sqrt(df / (count - 1)) : 0);
    }

    // llama.cpp's covariance of the two mean log-perplexities, 0 for fewer than 10 values
    private static double Covariance(double a, double b, double ab, int count) =>
        count < 10 ? 0 : (ab / count - a / count * (b / count)) / (count - 1);

    private static double Median(double[] sorted) =>
        sorted.Length % 2 == 0 ? 0.5 * (sorted[sorted.Length / 2] + sorted[sorted.Length / 2 - 1]) : sorted[sorted.Length / 2];

    // llama.cpp's percentile: linear interpolation at fraction·(n − 1)
    private static double Percentile(double[] sorted, double fraction)
    {
        double p = fraction * (sorted.Length - 1);
        int ip = (int)p;
        p -= ip;
        return (1 - p) * sorted[ip] + p * sorted[Math.Min(ip + 1, sorted.Length - 1)];
    }
}
