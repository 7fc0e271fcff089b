// The corpus BLEU statistics coco-caption prints ({'testlen', 'reflen', 'guess', 'correct'}), kept in eval reports
// so a corpus BLEU can be recomputed or pooled exactly.
using System.Text.Json.Serialization;

namespace Furnace.Evaluation;

public sealed record BleuStatistics(
    [property: JsonPropertyName("testlen")] long TestLength,
    [property: JsonPropertyName("reflen")] long ReferenceLength,
    [property: JsonPropertyName("guess")] IReadOnlyList<long> Guess,
    [property: JsonPropertyName("correct")] IReadOnlyList<long> Correct)
{
    public static BleuStatistics From(BleuScore b) => new(b.TestLength, b.ReferenceLength, b.Guess, b.Correct);
}
