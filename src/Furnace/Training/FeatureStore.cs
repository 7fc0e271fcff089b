// Frozen vision features per image file kept in memory up to a byte budget (an image past the budget is encoded
// again each time it is drawn). One store can serve several VlmObjectives over the same frozen encoder — the stages
// of a TrainingRun — so each image is encoded once per run instead of once per stage.
namespace Furnace.Training;

public sealed class FeatureStore
{
    private readonly Dictionary<string, float[]> _features = new(StringComparer.Ordinal);

    public FeatureStore(long budgetBytes) => BudgetBytes = budgetBytes;

    public long BudgetBytes { get; }

    public long Bytes { get; private set; }

    public int Count => _features.Count;

    public bool TryGet(string imagePath, out float[] features) => _features.TryGetValue(imagePath, out features!);

    /// <summary>Keeps the features when the budget allows; false when they were not kept.</summary>
    public bool TryAdd(string imagePath, float[] features)
    {
        if (Bytes + features.Length * 4L > BudgetBytes || !_features.TryAdd(imagePath, features)) return false;
        Bytes += features.Length * 4L;
        return true;
    }
}
