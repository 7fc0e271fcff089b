// How a captioned image with several reference captions becomes training examples.
namespace Furnace.Data;

public enum CaptionSampling
{
    /// <summary>One example per reference caption (COCO: five examples per image, every epoch).</summary>
    EachCaption,

    /// <summary>One example per image; each epoch picks one of its captions at random (seeded by the loader's seed,
    /// the epoch and the image), so an epoch is as long as the image count.</summary>
    OneCaptionPerEpoch,
}
