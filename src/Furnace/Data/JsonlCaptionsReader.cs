// JSONL caption dataset → CaptionDataset: one {"image": path, "captions": [...]} object per line (blank lines
// skipped), image paths relative to the JSONL's folder, optional Chinese references in "captions_zh". The id is "id" when given, else the image file name without
// extension. Errors name the file and the 1-based line.
using System.Text;
using System.Text.Json;
using Furnace.IO;

namespace Furnace.Data;

internal static class JsonlCaptionsReader
{
    public static CaptionDataset Read(string path, bool requireImages)
    {
        byte[] bytes = JsonInput.ReadAllBytes(path);
        string baseDir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        var items = new List<CaptionItem>();
        var lineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        int lineNo = 0;
        foreach (string line in Encoding.UTF8.GetString(bytes).TrimStart('\uFEFF').Split('\n'))
        {
            lineNo++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string where = $"{path}:{lineNo}";
            CaptionLineJson raw;
            try
            {
                raw = JsonSerializer.Deserialize(line, DataJsonContext.Default.CaptionLineJson)
                    ?? throw new FurnaceException($"{where}: expected a JSON object, got null");
            }
            catch (JsonException e)
            {
                throw new FurnaceException($"{where}: {JsonInput.Describe(e, withLine: false)}");
            }
            if (string.IsNullOrWhiteSpace(raw.Image)) throw new FurnaceException($"{where}: missing \"image\"");
            if (raw.Captions is null || raw.Captions.Count == 0) throw new FurnaceException($"{where}: empty caption list for {raw.Image}");
            for (int c = 0; c < raw.Captions.Count; c++)
            {
                if (string.IsNullOrWhiteSpace(raw.Captions[c])) throw new FurnaceException($"{where}: captions[{c}] is empty");
            }
            if (raw.CaptionsZh is { } zh)
            {
                for (int c = 0; c < zh.Count; c++)
                {
                    if (string.IsNullOrWhiteSpace(zh[c])) throw new FurnaceException($"{where}: captions_zh[{c}] is empty");
                }
            }
            string id = raw.Id ?? System.IO.Path.GetFileNameWithoutExtension(raw.Image);
            if (!lineOf.TryAdd(id, lineNo))
                throw new FurnaceException($"{where}: duplicate image id {id} (also line {lineOf[id]}){(raw.Id is null ? "; give each line an \"id\"" : "")}");
            string image = System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, raw.Image));
            if (requireImages && !File.Exists(image)) throw new FurnaceException($"{where}: image file '{raw.Image}' not found ({image})");
            items.Add(new CaptionItem(id, image, raw.Captions.Select(c => c!).ToArray())
            {
                CaptionsZh = raw.CaptionsZh is { Count: > 0 } z ? z.Select(c => c!).ToArray() : null,
            });
        }
        if (items.Count == 0) throw new FurnaceException($"{path}: no items (expected one JSON object per line)");
        return new CaptionDataset(path, CaptionDatasetFormat.Jsonl, items);
    }
}
