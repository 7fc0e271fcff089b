// Knobs of image decoding: the decompression-bomb guard, alpha handling and EXIF orientation.
namespace Furnace.Formats.Images;

public sealed record ImageLoadOptions
{
    /// <summary>PIL's Image.MAX_IMAGE_PIXELS (1024³/4/3): where PIL starts warning about decompression bombs.</summary>
    public const long DefaultMaxPixels = 89_478_485;

    public static ImageLoadOptions Default { get; } = new();

    /// <summary>Largest width × height accepted, checked against the header before any pixel is decoded.</summary>
    public long MaxPixels { get; init; } = DefaultMaxPixels;

    public AlphaHandling Alpha { get; init; } = AlphaHandling.Discard;

    /// <summary>Rotate/flip by the EXIF orientation tag, as transformers' load_image does (PIL.ImageOps.exif_transpose).</summary>
    public bool ApplyExifOrientation { get; init; } = true;
}
