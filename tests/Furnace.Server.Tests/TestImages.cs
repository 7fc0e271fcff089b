// Small deterministic test images: random-pixel PNGs (SkiaSharp) as bytes, files and data: URLs.
using SkiaSharp;

namespace Furnace.Server.Tests;

internal static class TestImages
{
    public static byte[] Png(int width, int height, int seed)
    {
        var rng = new Random(seed);
        using var bitmap = new SKBitmap(width, height, SKColorType.Rgba8888, SKAlphaType.Opaque);
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++) bitmap.SetPixel(x, y, new SKColor((byte)rng.Next(256), (byte)rng.Next(256), (byte)rng.Next(256)));
        }
        using SKData data = bitmap.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public static string DataUrl(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);
}
