// Folder of images with same-named .txt captions → CaptionDataset: dog.jpg + dog.txt (one caption per line, blank
// lines skipped) is item "dog". Not recursive. An image without its .txt, a .txt without its image, an empty .txt
// and two images with one name (dog.jpg, dog.png) are errors naming the file.
namespace Furnace.Data;

internal static class CaptionFolderReader
{
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase)
    {
        ".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif",
    };

    public static CaptionDataset Read(string folder)
    {
        if (!Directory.Exists(folder)) throw new FurnaceException($"{folder}: no such directory");
        string[] files = Directory.GetFiles(folder);
        Array.Sort(files, StringComparer.Ordinal);
        var images = new Dictionary<string, string>(StringComparer.Ordinal);
        var texts = new HashSet<string>(StringComparer.Ordinal);
        foreach (string file in files)
        {
            string name = Path.GetFileName(file);
            if (name.StartsWith('.')) continue;
            string id = Path.GetFileNameWithoutExtension(file);
            string ext = Path.GetExtension(file);
            if (ext.Equals(".txt", StringComparison.OrdinalIgnoreCase))
            {
                texts.Add(id);
            }
            else if (ImageExtensions.Contains(ext) && !images.TryAdd(id, Path.GetFullPath(file)))
            {
                throw new FurnaceException($"{file}: duplicate image id {id} (also {Path.GetFileName(images[id])})");
            }
        }
        foreach (string id in texts)
        {
            if (!images.ContainsKey(id)) throw new FurnaceException($"{Path.Combine(folder, id + ".txt")}: no image named {id} beside it");
        }

        var items = new List<CaptionItem>(images.Count);
        foreach (var (id, image) in images)
        {
            string txt = Path.Combine(folder, id + ".txt");
            if (!texts.Contains(id)) throw new FurnaceException($"{image}: no caption file {id}.txt beside it");
            string[] captions = File.ReadAllLines(txt).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
            if (captions.Length == 0) throw new FurnaceException($"{txt}: empty caption list");
            items.Add(new CaptionItem(id, image, captions));
        }
        if (items.Count == 0) throw new FurnaceException($"{folder}: no images (expected images with same-named .txt captions)");
        return new CaptionDataset(folder, CaptionDatasetFormat.Folder, items);
    }
}
