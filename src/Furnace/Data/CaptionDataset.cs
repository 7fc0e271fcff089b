// A captioned image set for evaluation (and later training): images with their reference captions, read from
// COCO captions JSON, JSONL, or a folder of images with .txt captions. Ids are unique, every item has at least
// one non-empty caption, and image paths are absolute (checked to exist unless the caller only needs captions).
namespace Furnace.Data;

public sealed class CaptionDataset
{
    private readonly Dictionary<string, CaptionItem> _byId;

    public CaptionDataset(string path, CaptionDatasetFormat format, IReadOnlyList<CaptionItem> items)
    {
        Path = path;
        Format = format;
        Items = items;
        _byId = new Dictionary<string, CaptionItem>(items.Count, StringComparer.Ordinal);
        foreach (var item in items)
        {
            if (!_byId.TryAdd(item.Id, item)) throw new FurnaceException($"{path}: duplicate image id {item.Id}");
        }
    }

    /// <summary>The file or folder the dataset was read from.</summary>
    public string Path { get; }

    public CaptionDatasetFormat Format { get; }

    /// <summary>Items in file order (COCO: the order of "images"; folder: ordinal order of file names).</summary>
    public IReadOnlyList<CaptionItem> Items { get; }

    public int Count => Items.Count;

    public CaptionItem this[string id] => _byId.TryGetValue(id, out var item) ? item : throw new KeyNotFoundException($"{Path}: no image id {id}");

    public bool TryGet(string id, out CaptionItem item) => _byId.TryGetValue(id, out item!);

    /// <summary>Image id → reference captions, the shape CaptionEvaluator takes.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> References() =>
        Items.ToDictionary(i => i.Id, i => i.Captions, StringComparer.Ordinal);

    /// <summary>
    /// Reads a dataset, choosing the reader by what <paramref name="path"/> is: a directory is a folder of images
    /// with .txt captions, <c>.jsonl</c> is JSONL, <c>.json</c> is COCO captions.
    /// </summary>
    /// <param name="requireImages">Fail when an image file is missing. Pass false when only the captions are needed
    /// (scoring predictions against references); image paths are then resolved as well as possible.</param>
    public static CaptionDataset Load(string path, bool requireImages = true)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (Directory.Exists(path)) return LoadFolder(path);
        if (!File.Exists(path)) throw new FurnaceException($"{path}: no such file or directory");
        return System.IO.Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".jsonl" => LoadJsonl(path, requireImages),
            ".json" => LoadCoco(path, requireImages),
            var ext => throw new FurnaceException(
                $"{path}: unknown dataset type '{ext}' (expected a COCO captions .json, a .jsonl file, or a folder of images with .txt captions)"),
        };
    }

    public static CaptionDataset LoadCoco(string path, bool requireImages = true) => CocoCaptionsReader.Read(path, requireImages);

    public static CaptionDataset LoadJsonl(string path, bool requireImages = true) => JsonlCaptionsReader.Read(path, requireImages);

    public static CaptionDataset LoadFolder(string path) => CaptionFolderReader.Read(path);
}
