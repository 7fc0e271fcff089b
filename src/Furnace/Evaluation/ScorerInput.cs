// Argument checks shared by the scorers: one candidate and at least one reference per image, as coco-caption
// asserts (len(hypo) == 1, len(ref) > 0).
namespace Furnace.Evaluation;

internal static class ScorerInput
{
    public static void Check(IReadOnlyList<string> candidates, IReadOnlyList<IReadOnlyList<string>> references)
    {
        ArgumentNullException.ThrowIfNull(candidates);
        ArgumentNullException.ThrowIfNull(references);
        if (candidates.Count != references.Count)
            throw new ArgumentException($"{candidates.Count} candidates but {references.Count} reference sets; need one of each per image");
        if (candidates.Count == 0) throw new ArgumentException("no images to score");
        for (int i = 0; i < references.Count; i++)
            if (references[i] is null || references[i].Count == 0)
                throw new ArgumentException($"image #{i} has no reference captions");
    }
}
