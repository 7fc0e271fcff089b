// One sample of a TrainingSet as stored: either fixed turns (LLaVA) or an image's reference captions from which
// the example is built (one caption, or one chosen per epoch). ImageKey groups samples of the same image for the
// train/validation split: the path as the file writes it, relative to the dataset, so the split is the same on
// every machine; text-only samples are keyed by id.
namespace Furnace.Data;

internal sealed record TrainingSetEntry(string Id, string? ImagePath, string ImageKey, bool ImageFound,
    IReadOnlyList<TrainingTurn>? Turns, IReadOnlyList<string>? Captions);
