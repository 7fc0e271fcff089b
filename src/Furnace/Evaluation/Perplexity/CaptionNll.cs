// The teacher-forced negative log-likelihood of one reference caption (CaptionPerplexity).
namespace Furnace.Evaluation.Perplexity;

/// <param name="Nll">Σ −log p over the caption's answer tokens, nats.</param>
/// <param name="Tokens">Answer tokens scored: the caption's tokens and the end-of-turn marker (EOS) the chat format adds.</param>
public sealed record CaptionNll(string ImageId, int Caption, double Nll, int Tokens)
{
    public double Mean => Nll / Tokens;
}
