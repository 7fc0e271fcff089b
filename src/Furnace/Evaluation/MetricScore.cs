// A corpus-level score with the per-image scores it is built from (ROUGE-L, CIDEr-D), images in input order.
namespace Furnace.Evaluation;

public sealed record MetricScore(double Corpus, IReadOnlyList<double> PerImage);
