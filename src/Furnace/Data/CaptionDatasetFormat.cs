// The on-disk layouts CaptionDataset reads.
namespace Furnace.Data;

public enum CaptionDatasetFormat
{
    /// <summary>COCO captions JSON: {"images": [{"id", "file_name"}], "annotations": [{"image_id", "caption"}]}.</summary>
    Coco,

    /// <summary>One {"image": path, "captions": [...], "id"?: ...} object per line.</summary>
    Jsonl,

    /// <summary>A folder of images, each with a same-named .txt file holding one caption per line.</summary>
    Folder,
}
