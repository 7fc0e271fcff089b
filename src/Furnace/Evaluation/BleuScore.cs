// BLEU-1..N as coco-caption's bleu_scorer.py reports it: corpus scores, per-image scores, and the corpus
// statistics it prints ({'testlen', 'reflen', 'guess', 'correct'}).
namespace Furnace.Evaluation;

/// <param name="Corpus">Corpus BLEU-1..N (index n-1).</param>
/// <param name="PerImage">Per image (input order), BLEU-1..N of that image alone.</param>
/// <param name="TestLength">Candidate words over the corpus.</param>
/// <param name="ReferenceLength">Sum of each image's closest reference length.</param>
/// <param name="Guess">Candidate n-grams of each order.</param>
/// <param name="Correct">Clipped matching n-grams of each order.</param>
public sealed record BleuScore(
    IReadOnlyList<double> Corpus,
    IReadOnlyList<IReadOnlyList<double>> PerImage,
    long TestLength,
    long ReferenceLength,
    IReadOnlyList<long> Guess,
    IReadOnlyList<long> Correct);
