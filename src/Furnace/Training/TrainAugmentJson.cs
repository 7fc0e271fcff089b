// train.json "data.augment": training-image augmentation (Furnace.Data's AugmentationOptions): "crop": [min, max]
// area fraction of torchvision's RandomResizedCrop, "flip": horizontal flip probability, "left_right": what a flip
// does to a caption that names a side ("swap" its words, or "no_flip").
using System.Text.Json.Serialization;

namespace Furnace.Training;

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record TrainAugmentJson
{
    public double[]? Crop { get; init; }
    public double? Flip { get; init; }
    public string? LeftRight { get; init; }
}
