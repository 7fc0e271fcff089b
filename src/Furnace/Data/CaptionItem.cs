// One image of a caption dataset: its id (the key predictions are matched by), where the image is, and its
// reference captions as written in the dataset (untokenized).
namespace Furnace.Data;

/// <param name="Id">Image id: COCO's image id, the JSONL "id" (or the image file name without extension), or the
/// file name without extension in a folder dataset.</param>
/// <param name="ImagePath">Absolute path of the image file.</param>
/// <param name="Captions">Reference captions, at least one, none empty.</param>
public sealed record CaptionItem(string Id, string ImagePath, IReadOnlyList<string> Captions)
{
    /// <summary>Chinese reference captions (JSONL "captions_zh"), or null when the dataset has none for this image.</summary>
    public IReadOnlyList<string>? CaptionsZh { get; init; }
}
