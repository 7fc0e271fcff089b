// Image bytes -> RgbImage through SkiaSharp's SKCodec: JPEG, PNG, WebP, GIF (first frame) and BMP.
// Mirrors transformers' image_utils.load_image (PIL.Image.open -> ImageOps.exif_transpose -> convert("RGB")):
// EXIF orientation applied, alpha dropped (or composited over white on request), grey and palette expanded
// to RGB, no ICC colour management (PIL ignores embedded profiles too). Header dimensions are checked against
// ImageLoadOptions.MaxPixels before any pixel is decoded; truncated data is an error, as in PIL
// (ImageFile.LOAD_TRUNCATED_IMAGES = False).
using System.Runtime.InteropServices;
using SkiaSharp;

namespace Furnace.Formats.Images;

public static class ImageDecoder
{
    public const string SupportedFormats = "JPEG, PNG, WebP, GIF or BMP";

    public static RgbImage Load(string path, ImageLoadOptions? options = null)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FurnaceException($"{path}: no such file");
        }
        catch (UnauthorizedAccessException)
        {
            throw new FurnaceException(Directory.Exists(path) ? $"{path}: is a directory, not an image" : $"{path}: permission denied");
        }
        return Decode(bytes, path, options);
    }

    public static RgbImage Decode(Stream stream, string source, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var ms = new MemoryStream();
        stream.CopyTo(ms);
        return Decode(ms.GetBuffer().AsSpan(0, (int)ms.Length).ToArray(), source, options);
    }

    /// <summary>Decodes a <c>data:image/…;base64,…</c> URL (as sent by OpenAI-style chat clients).</summary>
    public static RgbImage DecodeDataUrl(string url, ImageLoadOptions? options = null)
    {
        var (mediaType, bytes) = DataUrl.Parse(url);
        return Decode(bytes, $"data:{mediaType} URL", options);
    }

    /// <param name="source">Names the bytes in error messages (a path, a URL, "request body").</param>
    public static RgbImage Decode(byte[] bytes, string source, ImageLoadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        options ??= ImageLoadOptions.Default;
        if (bytes.Length == 0) throw new FurnaceFormatException(source, "is empty, not an image");

        using var stream = new SKMemoryStream(bytes);
        using var codec = SKCodec.Create(stream, out SKCodecResult created);
        if (codec == null)
        {
            string problem = created == SKCodecResult.IncompleteInput
                ? "image header is truncated"
                : $"not a supported image ({SupportedFormats})";
            throw new FurnaceFormatException(source, problem);
        }
        SKEncodedImageFormat format = codec.EncodedFormat;
        if (format is not (SKEncodedImageFormat.Jpeg or SKEncodedImageFormat.Png or SKEncodedImageFormat.Webp
            or SKEncodedImageFormat.Gif or SKEncodedImageFormat.Bmp))
            throw new FurnaceFormatException(source, $"{FormatName(format)} images are not supported ({SupportedFormats})");

        string name = FormatName(format);
        int w = codec.Info.Width, h = codec.Info.Height;
        if (w <= 0 || h <= 0) throw new FurnaceFormatException(source, $"{name} header gives an empty size {w}x{h}");
        long pixels = (long)w * h;
        if (pixels > options.MaxPixels)
            throw new FurnaceFormatException(source, $"{name} image is {w}x{h} = {pixels:N0} pixels, more than the limit of {options.MaxPixels:N0} (a decompression bomb?)");

        // No colour space on the destination: Skia then converts no colours, like PIL.
        var info = new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Unpremul);
        var rgba = new byte[pixels * 4];
        var pin = GCHandle.Alloc(rgba, GCHandleType.Pinned);
        SKCodecResult result;
        try
        {
            result = codec.GetPixels(info, pin.AddrOfPinnedObject());
        }
        finally
        {
            pin.Free();
        }
        switch (result)
        {
            case SKCodecResult.Success:
                break;
            case SKCodecResult.IncompleteInput:
                throw new FurnaceFormatException(source, $"{name} image is truncated ({bytes.Length:N0} bytes, {w}x{h} pixels announced)");
            case SKCodecResult.ErrorInInput:
                throw new FurnaceFormatException(source, $"{name} image data is corrupt");
            default:
                throw new FurnaceFormatException(source, $"{name} image could not be decoded ({result})");
        }

        var rgb = ToRgb(rgba, pixels, options.Alpha);
        var image = new RgbImage(w, h, rgb);
        int origin = (int)codec.EncodedOrigin;
        return options.ApplyExifOrientation && origin is >= 2 and <= 8 ? ImageOrientation.Apply(image, origin) : image;
    }

    private static string FormatName(SKEncodedImageFormat format) => format switch
    {
        SKEncodedImageFormat.Jpeg => "JPEG",
        SKEncodedImageFormat.Png => "PNG",
        SKEncodedImageFormat.Webp => "WebP",
        SKEncodedImageFormat.Gif => "GIF",
        SKEncodedImageFormat.Bmp => "BMP",
        SKEncodedImageFormat.Ico => "ICO",
        SKEncodedImageFormat.Wbmp => "WBMP",
        SKEncodedImageFormat.Heif => "HEIF",
        SKEncodedImageFormat.Avif => "AVIF",
        SKEncodedImageFormat.Dng => "DNG",
        _ => format.ToString(),
    };

    private static byte[] ToRgb(byte[] rgba, long pixels, AlphaHandling alpha)
    {
        var rgb = new byte[pixels * 3];
        if (alpha == AlphaHandling.Discard)
        {
            for (long p = 0; p < pixels; p++)
            {
                rgb[p * 3] = rgba[p * 4];
                rgb[p * 3 + 1] = rgba[p * 4 + 1];
                rgb[p * 3 + 2] = rgba[p * 4 + 2];
            }
            return rgb;
        }
        for (long p = 0; p < pixels; p++)
        {
            int a = rgba[p * 4 + 3], white = 255 * (255 - a);
            for (int c = 0; c < 3; c++) rgb[p * 3 + c] = (byte)((rgba[p * 4 + c] * a + white + 127) / 255);
        }
        return rgb;
    }
}
