// Backgrounds of the compositional scenes, each with the words that describe it honestly: a plain named colour,
// a two-colour gradient, a mottled texture of one colour (fractal value noise), or photo-like textures (cloudy
// sky, grass, sand). Noise is made at a quarter of the size and enlarged bilinearly (cheap, and smooth like
// out-of-focus photo backgrounds); sand adds full-resolution grain.
using SkiaSharp;

namespace Furnace.Data.Builders;

public static class SceneBackground
{
    /// <summary>A colour with its English and Chinese names.</summary>
    public sealed record NamedColor(string English, string Chinese, SKColor Color);

    public static IReadOnlyList<NamedColor> Palette { get; } =
    [
        new("red", "红色", new SKColor(0xD7, 0x26, 0x26)),
        new("orange", "橙色", new SKColor(0xF2, 0x8C, 0x1C)),
        new("yellow", "黄色", new SKColor(0xF5, 0xD7, 0x2A)),
        new("green", "绿色", new SKColor(0x3C, 0xA5, 0x3C)),
        new("blue", "蓝色", new SKColor(0x2E, 0x6D, 0xD8)),
        new("light blue", "浅蓝色", new SKColor(0x9C, 0xCF, 0xF2)),
        new("purple", "紫色", new SKColor(0x7E, 0x3F, 0xB5)),
        new("pink", "粉色", new SKColor(0xF4, 0x9A, 0xC1)),
        new("brown", "棕色", new SKColor(0x8A, 0x5A, 0x2E)),
        new("grey", "灰色", new SKColor(0x8C, 0x8C, 0x8C)),
        new("white", "白色", new SKColor(0xFA, 0xFA, 0xFA)),
        new("black", "黑色", new SKColor(0x1A, 0x1A, 0x1A)),
        new("beige", "米色", new SKColor(0xE8, 0xDC, 0xC0)),
        new("dark green", "深绿色", new SKColor(0x1F, 0x5C, 0x2E)),
    ];

    /// <summary>What was painted: kind, and an English phrase ("a plain blue background") and a Chinese one ("纯蓝色的背景").</summary>
    public sealed record Painted(string Kind, string English, string Chinese)
    {
        /// <summary>"on a plain blue background", "against a cloudy sky".</summary>
        public string EnglishWhere => (Kind == "sky" ? "against " : "on ") + English;
    }

    public static Painted Paint(SKBitmap target, Random rng)
    {
        using var canvas = new SKCanvas(target);
        int size = target.Width;
        switch (rng.Next(6))
        {
            case 0:
            case 1:
            {
                var c = Palette[rng.Next(Palette.Count)];
                canvas.Clear(c.Color);
                return new("plain", $"a plain {c.English} background", $"纯{c.Chinese}的背景");
            }
            case 2:
            {
                var (a, b) = TwoColors(rng);
                bool vertical = rng.Next(2) == 0;
                using var shader = SKShader.CreateLinearGradient(new SKPoint(0, 0), vertical ? new SKPoint(0, size) : new SKPoint(size, 0),
                    [a.Color, b.Color], SKShaderTileMode.Clamp);
                using var paint = new SKPaint { Shader = shader };
                canvas.DrawRect(0, 0, size, size, paint);
                string from = vertical ? "top" : "left", to = vertical ? "bottom" : "right";
                return new("gradient", $"a background fading from {a.English} at the {from} to {b.English} at the {to}",
                    $"从{a.Chinese}渐变到{b.Chinese}的背景");
            }
            case 3:
            {
                var c = Palette[rng.Next(Palette.Count)];
                DrawNoise(canvas, size, rng, 0.35f, (v, _, _) => Shade(c.Color, 0.65f + 0.6f * v));
                return new("texture", $"a mottled {c.English} background", $"斑驳的{c.Chinese}背景");
            }
            default:
                return PhotoLike(canvas, size, rng);
        }
    }

    private static Painted PhotoLike(SKCanvas canvas, int size, Random rng)
    {
        switch (rng.Next(3))
        {
            case 0:
            {
                // Sky: blue deepening upwards, soft white clouds where the noise is high.
                var top = new SKColor(0x3F, 0x86, 0xE0);
                var bottom = new SKColor(0xB8, 0xDC, 0xF8);
                DrawNoise(canvas, size, rng, 1f, (v, _, y) =>
                {
                    var sky = Mix(top, bottom, y);
                    float cloud = Math.Clamp((v - 0.5f) * 3f, 0f, 1f);
                    return Mix(sky, SKColors.White, cloud);
                });
                return new("sky", "a cloudy sky", "多云的天空背景");
            }
            case 1:
            {
                var dark = new SKColor(0x2F, 0x6B, 0x1F);
                var light = new SKColor(0x8C, 0xC4, 0x4A);
                DrawNoise(canvas, size, rng, 1f, (v, _, _) => Mix(dark, light, v), stretchY: 4);
                return new("grass", "a grassy background", "草地背景");
            }
            default:
            {
                var sand = new SKColor(0xDE, 0xC4, 0x8E);
                DrawNoise(canvas, size, rng, 0.25f, (v, _, _) => Shade(sand, 0.85f + 0.3f * v));
                Grain(canvas, size, rng, 18);
                return new("sand", "a sandy background", "沙地背景");
            }
        }
    }

    private static (NamedColor, NamedColor) TwoColors(Random rng)
    {
        int a = rng.Next(Palette.Count), b = rng.Next(Palette.Count - 1);
        if (b >= a) b++;
        return (Palette[a], Palette[b]);
    }

    /// <summary>
    /// Fractal value noise (octaves of 4, 8, 16 cells, amplitude halving) at size/4, coloured per pixel by
    /// colorOf(v in [0,1], x in [0,1], y in [0,1]) and drawn enlarged over the canvas. stretchY &gt; 1 makes
    /// vertical streaks (grass).
    /// </summary>
    private static void DrawNoise(SKCanvas canvas, int size, Random rng, float contrast, Func<float, float, float, SKColor> colorOf, int stretchY = 1)
    {
        int n = Math.Max(8, size / 4);
        using var small = new SKBitmap(new SKImageInfo(n, n, SKColorType.Rgba8888, SKAlphaType.Opaque));
        var grids = new[] { 4, 8, 16 }.Select(cells => Grid(rng, cells + 1)).ToArray();
        for (int y = 0; y < n; y++)
        {
            for (int x = 0; x < n; x++)
            {
                float v = 0, amp = 0.5f, total = 0;
                for (int o = 0; o < grids.Length; o++)
                {
                    int cells = grids[o].GetLength(0) - 1;
                    float gx = (float)x / n * cells, gy = (float)y / n * cells / stretchY;
                    v += amp * Sample(grids[o], gx, gy);
                    total += amp;
                    amp *= 0.5f;
                }
                v /= total;
                v = Math.Clamp(0.5f + (v - 0.5f) * (1 + 3 * contrast), 0f, 1f);
                small.SetPixel(x, y, colorOf(v, (float)x / n, (float)y / n));
            }
        }
        using var image = SKImage.FromBitmap(small);
        canvas.DrawImage(image, SKRect.Create(0, 0, size, size), new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.None));
    }

    private static void Grain(SKCanvas canvas, int size, Random rng, int strength)
    {
        using var grain = new SKBitmap(new SKImageInfo(size, size, SKColorType.Rgba8888, SKAlphaType.Premul));
        var bytes = new byte[size * size * 4];
        for (int i = 0; i < size * size; i++)
        {
            bool light = rng.Next(2) == 0;
            byte a = (byte)rng.Next(strength);
            byte c = light ? a : (byte)0; // premultiplied white or black
            bytes[4 * i] = c;
            bytes[4 * i + 1] = c;
            bytes[4 * i + 2] = c;
            bytes[4 * i + 3] = a;
        }
        System.Runtime.InteropServices.Marshal.Copy(bytes, 0, grain.GetPixels(), bytes.Length);
        canvas.DrawBitmap(grain, 0, 0);
    }

    private static float[,] Grid(Random rng, int points)
    {
        var g = new float[points, points];
        for (int i = 0; i < points; i++)
        {
            for (int j = 0; j < points; j++) g[i, j] = (float)rng.NextDouble();
        }
        return g;
    }

    private static float Sample(float[,] g, float x, float y)
    {
        int max = g.GetLength(0) - 1;
        int x0 = Math.Min((int)x, max - 1), y0 = Math.Min((int)y, max - 1);
        float fx = Smooth(x - x0), fy = Smooth(y - y0);
        float top = g[y0, x0] + (g[y0, x0 + 1] - g[y0, x0]) * fx;
        float bottom = g[y0 + 1, x0] + (g[y0 + 1, x0 + 1] - g[y0 + 1, x0]) * fx;
        return top + (bottom - top) * fy;
    }

    private static float Smooth(float t) => t * t * (3 - 2 * t);

    private static SKColor Shade(SKColor c, float f) =>
        new((byte)Math.Clamp(c.Red * f, 0, 255), (byte)Math.Clamp(c.Green * f, 0, 255), (byte)Math.Clamp(c.Blue * f, 0, 255));

    private static SKColor Mix(SKColor a, SKColor b, float t) =>
        new((byte)(a.Red + (b.Red - a.Red) * t), (byte)(a.Green + (b.Green - a.Green) * t), (byte)(a.Blue + (b.Blue - a.Blue) * t));
}
