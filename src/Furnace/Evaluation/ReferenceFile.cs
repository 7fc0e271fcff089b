// Reads reference captions for `furnace eval`: anything CaptionDataset reads (COCO captions JSON, JSONL, a folder
// with .txt captions; image files need not be present) or a fakecap-style JSON array ([{"image_id", "refs"}]).
using Furnace.Data;
using Furnace.IO;

namespace Furnace.Evaluation;

public static class ReferenceFile
{
    /// <summary>Image id → reference captions (at least one, none empty).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> Read(string path)
    {
        if (Directory.Exists(path) || !path.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            return CaptionDataset.Load(path, requireImages: false).References();
        byte[] json = JsonInput.ReadAllBytes(path);
        return JsonInput.FirstChar(json) == '['
            ? ReadArray(json, path)
            : CaptionDataset.LoadCoco(path, requireImages: false).References();
    }

    private static Dictionary<string, IReadOnlyList<string>> ReadArray(byte[] json, string path)
    {
        var entries = JsonInput.Parse(json, EvaluationJsonContext.Default.ListCaptionFileJson, path);
        if (entries.Count == 0) throw new FurnaceFormatException(path, "no references");
        var references = new Dictionary<string, IReadOnlyList<string>>(entries.Count, StringComparer.Ordinal);
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i] ?? throw new FurnaceFormatException(path, $"[{i}] is null");
            if (string.IsNullOrEmpty(e.ImageId)) throw new FurnaceFormatException(path, $"[{i}] has no \"image_id\"");
            if (e.Refs is null)
                throw new FurnaceFormatException(path, $"[{i}] (image {e.ImageId}) has no \"refs\" (references are COCO captions JSON, JSONL, or [{{\"image_id\", \"refs\"}}])");
            if (e.Refs.Count == 0) throw new FurnaceFormatException(path, $"image {e.ImageId}: empty reference list ([{i}])");
            if (e.Refs.Any(string.IsNullOrWhiteSpace)) throw new FurnaceFormatException(path, $"image {e.ImageId}: empty reference caption ([{i}])");
            if (!references.TryAdd(e.ImageId, e.Refs.Select(r => r!).ToArray()))
                throw new FurnaceFormatException(path, $"duplicate image id {e.ImageId} ([{i}])");
        }
        return references;
    }
}
