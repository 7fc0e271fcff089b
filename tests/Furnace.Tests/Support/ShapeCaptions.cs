// Test support: a synthetic image–caption set of coloured shapes drawn with SkiaSharp — a red/green/blue
// circle/square/triangle on the left/right/top/bottom of a 32x32 noisy dark background, captioned
// "a red circle on the left". Each rendering jitters the shape's centre by a pixel and the background noise (seeded);
// the size stays fixed so that a circle and a square of the same place differ only in shape.
using Furnace.Formats.Images;
using SkiaSharp;

namespace Furnace.Tests.Support;

public static class ShapeCaptions
{
    public const int Size = 32;

    public static readonly string[] Colours = ["red", "green", "blue"];
    public static readonly string[] Shapes = ["circle", "square", "triangle"];
    public static readonly string[] Places = ["left", "right", "top", "bottom"];

    private static readonly SKColor[] Paint = [new(225, 40, 40), new(40, 200, 60), new(50, 80, 235)];

    /// <summary>Every (colour, shape, place) combination: 36.</summary>
    public static IEnumerable<(int Colour, int Shape, int Place)> All() =>
        from c in Enumerable.Range(0, 3) from s in Enumerable.Range(0, 3) from p in Enumerable.Range(0, 4) select (c, s, p);

    public static string Caption(int colour, int shape, int place) => $"a {Colours[colour]} {Shapes[shape]} on the {Places[place]}";

    /// <summary>The byte-level pre-tokens of every caption and of the LLaVA-1.5 caption prompt (for WordTokenizerJson).</summary>
    public static IEnumerable<string> Pieces(string instruction) =>
        new[] { "USER", ":", "Ġ", "Ċ", "ĠASSISTANT", "Ġa", "Ġon", "Ġthe" }
            .Concat(instruction.Split(' ').SelectMany((w, i) => SplitPunct((i > 0 ? "Ġ" : "") + w)))
            .Concat(Colours.Concat(Shapes).Concat(Places).Select(w => "Ġ" + w));

    private static IEnumerable<string> SplitPunct(string w) => w.EndsWith('.') ? [w[..^1], "."] : [w];

    public static RgbImage Draw(int colour, int shape, int place, int seed)
    {
        var rng = new Random(seed);
        using var bmp = new SKBitmap(new SKImageInfo(Size, Size, SKColorType.Rgba8888, SKAlphaType.Unpremul));
        using (var canvas = new SKCanvas(bmp))
        {
            canvas.Clear(new SKColor(30, 30, 30));
            float cx = place switch { 0 => 8, 1 => 24, _ => 16 } + rng.Next(-1, 2);
            float cy = place switch { 2 => 8, 3 => 24, _ => 16 } + rng.Next(-1, 2);
            const float r = 7;
            using var paint = new SKPaint { Color = Paint[colour], IsAntialias = true, Style = SKPaintStyle.Fill };
            switch (shape)
            {
                case 0: canvas.DrawCircle(cx, cy, r, paint); break;
                case 1: canvas.DrawRect(cx - r, cy - r, 2 * r, 2 * r, paint); break;
                default:
                    using (var path = new SKPath())
                    {
                        path.MoveTo(cx, cy - r);
                        path.LineTo(cx + r, cy + r);
                        path.LineTo(cx - r, cy + r);
                        path.Close();
                        canvas.DrawPath(path, paint);
                    }
                    break;
            }
        }
        var px = new byte[Size * Size * 3];
        for (int y = 0; y < Size; y++)
        {
            for (int x = 0; x < Size; x++)
            {
                SKColor c = bmp.GetPixel(x, y);
                int o = (y * Size + x) * 3;
                px[o] = Noisy(c.Red, rng);
                px[o + 1] = Noisy(c.Green, rng);
                px[o + 2] = Noisy(c.Blue, rng);
            }
        }
        return new RgbImage(Size, Size, px);
    }

    private static byte Noisy(byte v, Random rng) => (byte)Math.Clamp(v + rng.Next(-8, 9), 0, 255);
}
