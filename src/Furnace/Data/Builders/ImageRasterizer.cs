// Source images → bitmaps: SVG through librsvg's rsvg-convert (rendered at the wanted size, aspect ratio kept, PNG
// on stdout), PNG/JPEG through SkiaSharp; then drawn centred on a square canvas. Svg.Skia is not used: its only
// served version (5.2.3) needs SkiaSharp ≥ 4.148 and Furnace is on SkiaSharp 3.119.4.
using SkiaSharp;

namespace Furnace.Data.Builders;

public sealed class ImageRasterizer
{
    private readonly PackageCache _cache;

    public ImageRasterizer(PackageCache cache)
    {
        _cache = cache;
    }

    /// <summary>
    /// The image as premultiplied RGBA, transparent where the source is, cropped to its visible content (OpenMoji
    /// and MDI draw inside a padded view box; cropping makes every source fill its frame alike). SVGs are rendered
    /// with their longer side 1.3 × <paramref name="maxSide"/> pixels so that the crop still has at least about
    /// maxSide; bitmaps keep their own size (scaled when drawn).
    /// </summary>
    public SKBitmap Load(string path, int maxSide)
    {
        byte[] bytes;
        if (path.EndsWith(".svg", StringComparison.OrdinalIgnoreCase))
        {
            string side = ((int)Math.Ceiling(maxSide * 1.3)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var r = ExternalTool.Run(_cache.RsvgConvert(), ["--keep-aspect-ratio", "--width", side, "--height", side, "--format", "png", path],
                timeout: TimeSpan.FromSeconds(60));
            if (r.ExitCode != 0 || r.Stdout.Length == 0)
            {
                string why = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? $"exit {r.ExitCode}";
                throw new FurnaceException($"{path}: rsvg-convert could not render it ({why})");
            }
            bytes = r.Stdout;
        }
        else
        {
            bytes = File.ReadAllBytes(path);
        }
        using var decoded = SKBitmap.Decode(bytes) ?? throw new FurnaceException($"{path}: not a decodable image");
        var rgba = new SKBitmap(new SKImageInfo(decoded.Width, decoded.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        if (!decoded.CopyTo(rgba, SKColorType.Rgba8888))
        {
            using var canvas = new SKCanvas(rgba);
            canvas.Clear(SKColors.Transparent);
            canvas.DrawBitmap(decoded, 0, 0);
        }
        if (rgba.Width == 0 || rgba.Height == 0) throw new FurnaceException($"{path}: empty image");
        var trimmed = TrimTransparent(rgba) ?? throw new FurnaceException($"{path}: nothing visible (fully transparent)");
        if (!ReferenceEquals(trimmed, rgba)) rgba.Dispose();
        return trimmed;
    }

    /// <summary>
    /// The bitmap cropped to the pixels with alpha &gt; 8 (the same instance when nothing is cropped), or null when
    /// no pixel is visible. Premultiplied RGBA only.
    /// </summary>
    public static SKBitmap? TrimTransparent(SKBitmap bitmap)
    {
        ReadOnlySpan<byte> px = bitmap.GetPixelSpan();
        int w = bitmap.Width, h = bitmap.Height, stride = bitmap.RowBytes;
        int left = w, right = -1, top = h, bottom = -1;
        for (int y = 0; y < h; y++)
        {
            var row = px.Slice(y * stride, w * 4);
            for (int x = 0; x < w; x++)
            {
                if (row[4 * x + 3] <= 8) continue;
                if (x < left) left = x;
                if (x > right) right = x;
                if (y < top) top = y;
                bottom = y;
            }
        }
        if (right < 0) return null;
        if (left == 0 && top == 0 && right == w - 1 && bottom == h - 1) return bitmap;
        var cropped = new SKBitmap(new SKImageInfo(right - left + 1, bottom - top + 1, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(cropped);
        canvas.Clear(SKColors.Transparent);
        canvas.DrawBitmap(bitmap, -left, -top);
        return cropped;
    }

    /// <summary>
    /// An opaque size×size image: the object scaled to fit <paramref name="fill"/> of the side (aspect ratio kept),
    /// centred on a plain background; with <paramref name="outline"/> a thin grey frame marks its edge (white flags
    /// on a white ground).
    /// </summary>
    public static SKBitmap Square(SKBitmap obj, int size, SKColor background, float fill = 0.92f, bool outline = false)
    {
        var square = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        using var canvas = new SKCanvas(square);
        canvas.Clear(background);
        float scale = fill * size / Math.Max(obj.Width, obj.Height);
        float w = obj.Width * scale, h = obj.Height * scale;
        var dest = SKRect.Create((size - w) / 2, (size - h) / 2, w, h);
        Draw(canvas, obj, dest);
        if (outline)
        {
            using var pen = new SKPaint { Color = new SKColor(0xB0, 0xB0, 0xB0), Style = SKPaintStyle.Stroke, StrokeWidth = Math.Max(1f, size / 224f), IsAntialias = true };
            canvas.DrawRect(dest, pen);
        }
        return square;
    }

    /// <summary>Draws a bitmap into a rectangle: Mitchell cubic when enlarging, mipmapped linear when shrinking.</summary>
    public static void Draw(SKCanvas canvas, SKBitmap obj, SKRect dest)
    {
        using var image = SKImage.FromBitmap(obj);
        var sampling = dest.Width > obj.Width
            ? new SKSamplingOptions(SKCubicResampler.Mitchell)
            : new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear);
        canvas.DrawImage(image, dest, sampling);
    }

    /// <summary>PNG bytes without an alpha channel (the image is opaque).</summary>
    public static byte[] OpaquePng(SKBitmap bitmap)
    {
        using var opaque = new SKBitmap(new SKImageInfo(bitmap.Width, bitmap.Height, SKColorType.Rgb888x, SKAlphaType.Opaque));
        using (var canvas = new SKCanvas(opaque))
        {
            canvas.Clear(SKColors.White);
            canvas.DrawBitmap(bitmap, 0, 0);
        }
        using var image = SKImage.FromBitmap(opaque);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100) ?? throw new FurnaceException("PNG encoding failed");
        return data.ToArray();
    }
}
