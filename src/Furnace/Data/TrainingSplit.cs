// A train/validation split of a TrainingSet by image: every sample of one image (LLaVA-Instruct's several
// conversations about one photo, COCO's five captions) lands on the same side. Images are ranked by a seeded hash
// of their dataset-relative key and the validation side takes them from the top, so the split depends only on the
// file's contents, the requested size and the seed.
namespace Furnace.Data;

public sealed class TrainingSplit
{
    private TrainingSplit(TrainingSet train, TrainingSet validation, int[] trainIndices, int[] validationIndices)
    {
        Train = train;
        Validation = validation;
        TrainIndices = trainIndices;
        ValidationIndices = validationIndices;
    }

    public TrainingSet Train { get; }

    public TrainingSet Validation { get; }

    /// <summary>Indices into the original set, ascending.</summary>
    public IReadOnlyList<int> TrainIndices { get; }

    public IReadOnlyList<int> ValidationIndices { get; }

    /// <param name="validation">A fraction in (0, 1) of the samples, or a sample count ≥ 1 (a whole number).</param>
    internal static TrainingSplit Of(TrainingSet set, double validation, ulong seed)
    {
        int n = set.Count;
        if (!double.IsFinite(validation) || validation <= 0)
            throw new FurnaceException($"validation size {validation} must be a fraction in (0, 1) or a sample count ≥ 1");
        int target;
        if (validation < 1) target = Math.Max(1, (int)Math.Round(validation * n));
        else if (validation == Math.Floor(validation)) target = (int)Math.Min(validation, int.MaxValue);
        else throw new FurnaceException($"validation size {validation} must be a fraction in (0, 1) or a whole sample count");
        if (target >= n) throw new FurnaceException($"validation size {validation} leaves no training samples ({n} in {set.Path})");

        // image key → its samples, in first-seen order
        var groups = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (int i = 0; i < n; i++)
        {
            string key = set.ImageKeyOf(i);
            if (!groups.TryGetValue(key, out var list)) groups[key] = list = [];
            list.Add(i);
        }
        var ranked = groups.Keys.Select(k => (Key: k, Rank: DataRandom.Hash(seed, 0, 0, k)))
            .OrderBy(g => g.Rank).ThenBy(g => g.Key, StringComparer.Ordinal).ToArray();
        var isValidation = new bool[n];
        int taken = 0;
        foreach (var (key, _) in ranked)
        {
            if (taken >= target) break;
            foreach (int i in groups[key]) isValidation[i] = true;
            taken += groups[key].Count;
        }
        if (taken >= n) throw new FurnaceException($"validation size {validation} leaves no training samples: {set.Path} has only {groups.Count} distinct images");
        int[] val = Enumerable.Range(0, n).Where(i => isValidation[i]).ToArray();
        int[] train = Enumerable.Range(0, n).Where(i => !isValidation[i]).ToArray();
        return new TrainingSplit(set.Subset(train), set.Subset(val), train, val);
    }
}
