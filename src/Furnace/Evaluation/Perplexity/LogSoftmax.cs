// Per-position log-probabilities with llama.cpp's numerics (tools/perplexity/perplexity.cpp, log_softmax() of the
// perplexity pass; ggml-org/llama.cpp @ 050fc7f32de16858ac667d775b43a51ed8976e6f): max over the float logits, the
// exponentials exp(l − max) taken in float and summed in double, log of the sum in double. Shared by the text,
// KL-divergence and caption perplexities so they all score a token the same way.
namespace Furnace.Evaluation.Perplexity;

public static class LogSoftmax
{
    /// <summary>The largest logit and log Σ exp(l − max) (double) of one row of logits (vocab,).</summary>
    public static (float Max, double LogSumExp) Normalizer(ReadOnlySpan<float> logits)
    {
        if (logits.IsEmpty) throw new ArgumentException("no logits");
        float max = logits[0];
        for (int i = 1; i < logits.Length; i++) max = Math.Max(max, logits[i]);
        double sum = 0;
        for (int i = 0; i < logits.Length; i++) sum += MathF.Exp(logits[i] - max);
        return (max, Math.Log(sum));
    }

    /// <summary>−log p(token) under a row of logits (vocab,), in nats: max + log Σ exp(l − max) − l[token].</summary>
    public static double Nll(ReadOnlySpan<float> logits, int token)
    {
        if ((uint)token >= (uint)logits.Length) throw new ArgumentOutOfRangeException(nameof(token), $"token {token} is outside the {logits.Length} logits");
        var (max, lse) = Normalizer(logits);
        // as llama.cpp: (float − float) promoted to double, minus the double log-sum
        return -(logits[token] - max - lse);
    }

    /// <summary>Index of the largest logit (the first on ties, as llama.cpp's scan).</summary>
    public static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++) if (logits[i] > logits[best]) best = i;
        return best;
    }
}
