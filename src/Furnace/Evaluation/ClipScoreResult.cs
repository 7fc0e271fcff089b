// What ClipScore.Compute returns: CLIP-S and, when references were given, RefCLIP-S, each as the corpus mean with
// the per-image scores (input order), as clipscore.py prints and saves them.
namespace Furnace.Evaluation;

public sealed record ClipScoreResult(MetricScore ClipScore, MetricScore? RefClipScore);
