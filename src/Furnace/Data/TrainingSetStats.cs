// What `furnace data info` reports about a training set: sample and image counts (found / missing on disk),
// text-only samples, repeated ids, turns per sample and the length of the answers (assistant turns: the
// captions of a caption set), in characters and in whitespace-separated words.
namespace Furnace.Data;

public sealed record TrainingSetStats(
    int Samples,
    int Images,
    int ImagesFound,
    int ImagesMissing,
    int TextOnly,
    int DuplicateIds,
    int MinTurns,
    int MaxTurns,
    double MeanTurns,
    LengthStats AnswerChars,
    LengthStats AnswerWords,
    IReadOnlyList<string> MissingImages)
{
    /// <param name="maxMissingListed">How many missing image paths to list.</param>
    public static TrainingSetStats Of(TrainingSet set, int maxMissingListed = 5)
    {
        ArgumentNullException.ThrowIfNull(set);
        var images = new Dictionary<string, bool>(StringComparer.Ordinal);
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var chars = new List<int>();
        var words = new List<int>();
        int textOnly = 0, duplicates = 0, minTurns = int.MaxValue, maxTurns = 0;
        long turns = 0;
        for (int i = 0; i < set.Count; i++)
        {
            if (set.ImagePathOf(i) is { } image) images.TryAdd(image, set.ImageFound(i));
            else textOnly++;
            TrainingExample ex = set.Example(i);
            // a caption set repeats its image id once per caption: only LLaVA ids count as duplicates
            if (!ids.Add(ex.Id) && set.Format == TrainingDataFormat.Llava) duplicates++;
            minTurns = Math.Min(minTurns, ex.Turns.Count);
            maxTurns = Math.Max(maxTurns, ex.Turns.Count);
            turns += ex.Turns.Count;
            foreach (TrainingTurn t in ex.Turns)
            {
                if (t.Role != TrainingRole.Assistant) continue;
                chars.Add(t.Text.Length);
                words.Add(t.Text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length);
            }
        }
        int found = images.Values.Count(f => f);
        var missing = images.Where(kv => !kv.Value).Select(kv => kv.Key).Take(maxMissingListed).ToArray();
        return new TrainingSetStats(set.Count, images.Count, found, images.Count - found, textOnly, duplicates,
            set.Count == 0 ? 0 : minTurns, maxTurns, set.Count == 0 ? 0 : (double)turns / set.Count,
            LengthStats.Of(chars), LengthStats.Of(words), missing);
    }
}
