// Small previews of images for reports: downscale with the PIL-exact resampler (as PIL's Image.thumbnail: keep the
// aspect ratio, never enlarge, bicubic) and encode with SkiaSharp as JPEG, returned as a data: URL to inline in HTML.
using SkiaSharp;

namespace Furnace.Formats.Images;

public static class ImageThumbnail
{
    /// <summary>The image scaled so that its longer side is at most <paramref name="maxSide"/> pixels.</summary>
    public static RgbImage Create(RgbImage image, int maxSide)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (maxSide < 1) throw new FurnaceException($"thumbnail size {maxSide} must be positive");
        int longer = Math.Max(image.Width, image.Height);
        if (longer <= maxSide) return image;
        int w = Math.Max(1, (int)Math.Round((double)image.Width * maxSide / longer));
        int h = Math.Max(1, (int)Math.Round((double)image.Height * maxSide / longer));
        return PilResampler.Resize(image, w, h, ResampleFilter.Bicubic);
    }

    /// <summary>Baseline JPEG bytes of an RGB image (quality 1..100).</summary>
    public static byte[] EncodeJpeg(RgbImage image, int quality = 80)
    {
        ArgumentNullException.ThrowIfNull(image);
        var info = new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        var rgba = new byte[image.Width * image.Height * 4];
        byte[] src = image.Pixels;
        for (int i = 0, j = 0; i < src.Length; i += 3, j += 4)
        {
            rgba[j] = src[i];
            rgba[j + 1] = src[i + 1];
            rgba[j + 2] = src[i + 2];
            rgba[j + 3] = 255;
        }
        using var sk = SKImage.FromPixelCopy(info, rgba, info.RowBytes);
        using var data = sk.Encode(SKEncodedImageFormat.Jpeg, quality)
            ?? throw new FurnaceException($"could not encode a {image.Width}x{image.Height} image as JPEG");
        return data.ToArray();
    }

    /// <summary>A <c>data:image/jpeg;base64,…</c> URL of the image's thumbnail.</summary>
    public static string JpegDataUrl(RgbImage image, int maxSide = 128, int quality = 80) =>
        "data:image/jpeg;base64," + Convert.ToBase64String(EncodeJpeg(Create(image, maxSide), quality));
}
