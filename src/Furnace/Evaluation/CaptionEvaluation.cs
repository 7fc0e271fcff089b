// What CaptionEvaluator returns: corpus scores (coco-caption's cocoEval.eval), per-image scores
// (cocoEval.imgToEval), the tokenized captions that were scored, and the BLEU statistics it prints.
namespace Furnace.Evaluation;

/// <param name="Corpus">Corpus-level scores.</param>
/// <param name="ImageIds">The evaluated images, in scoring order (the predictions' order).</param>
/// <param name="PerImage">Scores of each evaluated image.</param>
/// <param name="Bleu">Full BLEU result, including testlen/reflen/guess/correct.</param>
/// <param name="TokenizedPredictions">The candidate caption of each image as scored.</param>
/// <param name="TokenizedReferences">The reference captions of each image as scored.</param>
public sealed record CaptionEvaluation(
    CaptionScores Corpus,
    IReadOnlyList<string> ImageIds,
    IReadOnlyDictionary<string, CaptionScores> PerImage,
    BleuScore Bleu,
    IReadOnlyDictionary<string, string> TokenizedPredictions,
    IReadOnlyDictionary<string, IReadOnlyList<string>> TokenizedReferences);
