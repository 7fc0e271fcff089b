// Training-time image augmentation settings: torchvision's RandomResizedCrop (scale and aspect-ratio ranges) and
// a horizontal flip whose treatment of left/right text is chosen by LeftRight. Off by default: LLaVA's own recipes
// train without augmentation.
namespace Furnace.Data;

public sealed record AugmentationOptions
{
    public static AugmentationOptions None { get; } = new();

    public bool RandomResizedCrop { get; init; }

    /// <summary>Crop area as a fraction of the image, drawn uniformly (torchvision's default is 0.08–1; VLM
    /// fine-tuning wants most of the image, so 0.5–1 here).</summary>
    public double MinScale { get; init; } = 0.5;

    public double MaxScale { get; init; } = 1.0;

    /// <summary>Crop aspect ratio (width / height), drawn log-uniformly.</summary>
    public double MinRatio { get; init; } = 3.0 / 4.0;

    public double MaxRatio { get; init; } = 4.0 / 3.0;

    /// <summary>Chance of a horizontal flip per example (0: never; 0.5 is the usual).</summary>
    public double FlipProbability { get; init; }

    public LeftRightPolicy LeftRight { get; init; } = LeftRightPolicy.Swap;

    public bool Enabled => RandomResizedCrop || FlipProbability > 0;

    public AugmentationOptions Validated()
    {
        if (!(MinScale > 0 && MinScale <= MaxScale && MaxScale <= 1))
            throw new FurnaceException($"crop scale range {MinScale}–{MaxScale} must satisfy 0 < min ≤ max ≤ 1");
        if (!(MinRatio > 0 && MinRatio <= MaxRatio && double.IsFinite(MaxRatio)))
            throw new FurnaceException($"crop aspect ratio range {MinRatio}–{MaxRatio} must satisfy 0 < min ≤ max");
        if (!(FlipProbability >= 0 && FlipProbability <= 1)) throw new FurnaceException($"flip probability {FlipProbability} must be in [0, 1]");
        if (!Enum.IsDefined(LeftRight)) throw new FurnaceException($"left/right policy {(int)LeftRight} is not defined");
        return this;
    }
}
