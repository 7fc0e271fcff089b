// PIL's ImageOps.contain / ImageOps.pad and Image.crop on RgbImage, as Pillow 9.4–11 write them (ImageOps.py):
// contain fits the image inside (w, h) keeping its aspect ratio — the other side is round(src_other / src_side · w)
// with Python's round (half to even) — and always resizes (Image.resize copies when the size is unchanged); pad pastes
// that inside a (w, h) canvas of one colour at round((W − w') · 0.5). DeepSeek-VL2's processor builds its global view
// and its tile canvas this way (processing_deepseek_vl_v2.py tokenize_with_images).
namespace Furnace.Formats.Images;

public static class PilImageOps
{
    /// <summary>The size ImageOps.contain resizes a (srcWidth, srcHeight) image to inside (width, height); a side
    /// can round to 0 for an extreme aspect ratio (PIL then fails in resize).</summary>
    public static (int Width, int Height) ContainSize(int srcWidth, int srcHeight, int width, int height)
    {
        double imRatio = (double)srcWidth / srcHeight, destRatio = (double)width / height;
        if (imRatio == destRatio) return (width, height);
        if (imRatio > destRatio) return (width, (int)Math.Round((double)srcHeight / srcWidth * width, MidpointRounding.ToEven));
        return ((int)Math.Round((double)srcWidth / srcHeight * height, MidpointRounding.ToEven), height);
    }

    /// <summary>ImageOps.contain(image, (width, height), method).</summary>
    public static RgbImage Contain(RgbImage src, int width, int height, ResampleFilter filter = ResampleFilter.Bicubic)
    {
        ArgumentNullException.ThrowIfNull(src);
        var (w, h) = ContainSize(src.Width, src.Height, width, height);
        if (w <= 0 || h <= 0)
            throw new FurnaceException($"image {src.Width}x{src.Height} is too elongated to fit {width}x{height}: it would shrink to {w}x{h} pixels");
        return PilResampler.Resize(src, w, h, filter);
    }

    /// <summary>ImageOps.pad(image, (width, height), method, color=fill, centering=(0.5, 0.5)).</summary>
    public static RgbImage Pad(RgbImage src, int width, int height, ReadOnlySpan<byte> fill, ResampleFilter filter = ResampleFilter.Bicubic)
    {
        RgbImage resized = Contain(src, width, height, filter);
        if (resized.Width == width && resized.Height == height) return resized;
        RgbImage dst = RgbImage.Filled(width, height, fill[0], fill[1], fill[2]);
        int x = 0, y = 0;
        if (resized.Width != width) x = (int)Math.Round((width - resized.Width) * 0.5, MidpointRounding.ToEven);
        else y = (int)Math.Round((height - resized.Height) * 0.5, MidpointRounding.ToEven);
        for (int r = 0; r < resized.Height; r++)
            resized.Pixels.AsSpan(r * resized.Stride, resized.Stride).CopyTo(dst.Pixels.AsSpan(((y + r) * width + x) * 3));
        return dst;
    }

    /// <summary>Image.crop((left, top, left + width, top + height)) for a box inside the image.</summary>
    public static RgbImage Crop(RgbImage src, int left, int top, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (left < 0 || top < 0 || width <= 0 || height <= 0 || left + width > src.Width || top + height > src.Height)
            throw new FurnaceException($"crop box ({left}, {top}, {left + width}, {top + height}) is not inside the {src.Width}x{src.Height} image");
        var dst = new byte[(long)width * height * 3];
        for (int r = 0; r < height; r++)
            src.Pixels.AsSpan(((top + r) * src.Width + left) * 3, width * 3).CopyTo(dst.AsSpan(r * width * 3));
        return new RgbImage(width, height, dst);
    }
}
