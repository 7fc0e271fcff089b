// Small on-disk datasets for the training-data tests: real PNG images (seeded noise, so crops and flips change
// pixels) with JSONL captions.
using System.Runtime.InteropServices;
using Furnace.Data;
using SkiaSharp;

namespace Furnace.Tests.Data;

internal static class DataFiles
{
    public static void WritePng(string path, int width, int height, ulong seed)
    {
        var rng = new DataRandom(seed);
        var rgba = new byte[width * height * 4];
        for (int i = 0; i < rgba.Length; i++) rgba[i] = i % 4 == 3 ? (byte)255 : (byte)rng.NextInt(256);
        using var bmp = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        Marshal.Copy(rgba, 0, bmp.GetPixels(), rgba.Length);
        using var img = SKImage.FromBitmap(bmp);
        using var data = img.Encode(SKEncodedImageFormat.Png, 100);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, data.ToArray());
    }

    /// <summary>DIR/set.jsonl with <paramref name="images"/> PNGs of varied sizes, one caption each; every third
    /// caption names a side.</summary>
    public static string PngCaptions(string dir, int images)
    {
        var lines = new List<string>();
        for (int i = 0; i < images; i++)
        {
            string img = $"img/{i:D2}.png";
            WritePng(Path.Combine(dir, img), 40 + 7 * i, 30 + 5 * (i % 3), (ulong)i + 1);
            string caption = i % 3 == 0 ? $"A cat on the left of box {i}." : $"Picture {i} of noise.";
            lines.Add($"{{\"image\": \"{img}\", \"captions\": [\"{caption}\"]}}");
        }
        string path = Path.Combine(dir, "set.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }
}
