// Reads predicted captions for `furnace eval`: a JSON array in coco-caption's results format
// ([{"image_id": 42, "caption": "..."}]) or the fakecap format ([{"image_id", "test", "refs"}], "test" being the
// prediction). One prediction per image, none empty; order is kept (it is the scoring and report order).
using Furnace.IO;

namespace Furnace.Evaluation;

public static class PredictionFile
{
    public static IReadOnlyDictionary<string, string> Read(string path)
    {
        byte[] json = JsonInput.ReadAllBytes(path);
        if (JsonInput.FirstChar(json) != '[')
            throw new FurnaceFormatException(path,
                "not a predictions file (expected a JSON array of {\"image_id\", \"caption\"} objects, as coco-caption's results)");
        var entries = JsonInput.Parse(json, EvaluationJsonContext.Default.ListCaptionFileJson, path);
        if (entries.Count == 0) throw new FurnaceFormatException(path, "no predictions");
        var predictions = new Dictionary<string, string>(entries.Count, StringComparer.Ordinal);
        var indexOf = new Dictionary<string, int>(entries.Count, StringComparer.Ordinal);
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i] ?? throw new FurnaceFormatException(path, $"[{i}] is null");
            if (string.IsNullOrEmpty(e.ImageId)) throw new FurnaceFormatException(path, $"[{i}] has no \"image_id\"");
            string caption = e.Caption ?? e.Test
                ?? throw new FurnaceFormatException(path, $"[{i}] (image {e.ImageId}) has no \"caption\"");
            if (string.IsNullOrWhiteSpace(caption)) throw new FurnaceFormatException(path, $"image {e.ImageId}: empty caption ([{i}])");
            if (!indexOf.TryAdd(e.ImageId, i))
                throw new FurnaceFormatException(path, $"image {e.ImageId} has two predictions ([{indexOf[e.ImageId]}] and [{i}])");
            predictions.Add(e.ImageId, caption);
        }
        return predictions;
    }
}
