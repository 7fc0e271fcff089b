// The on-disk layouts TrainingSet reads: LLaVA conversation JSON, and the caption datasets of CaptionDataset.
namespace Furnace.Data;

public enum TrainingDataFormat
{
    /// <summary>LLaVA-Instruct / LLaVA-Pretrain JSON: [{"id", "image"?, "conversations": [{"from", "value"}]}].</summary>
    Llava,

    /// <summary>COCO captions JSON (CaptionDatasetFormat.Coco).</summary>
    Coco,

    /// <summary>JSONL captions (CaptionDatasetFormat.Jsonl).</summary>
    Jsonl,

    /// <summary>A folder of images with .txt captions (CaptionDatasetFormat.Folder).</summary>
    Folder,
}
