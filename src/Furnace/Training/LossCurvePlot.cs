// loss.png: the training loss per step (faint), its exponential moving average (TensorBoard-style smoothing 0.9,
// debiased) and the validation loss (orange dots), on linear axes with labelled ticks, drawn with SkiaSharp.
// Labels use DejaVu Sans when the system has it (SkiaSharp's NoDependencies build cannot ask fontconfig).
using System.Globalization;
using Furnace.IO;
using SkiaSharp;

namespace Furnace.Training;

public static class LossCurvePlot
{
    public const int Width = 960, Height = 540;
    public static readonly SKColor TrainColor = new(0x1f, 0x77, 0xb4), ValidationColor = new(0xff, 0x7f, 0x0e);
    private const float Left = 72, Right = 24, Top = 40, Bottom = 56;

    private static readonly string[] FontFiles =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "C:/Windows/Fonts/arial.ttf",
    ];

    /// <summary>Draws the curves and writes a PNG atomically.</summary>
    public static void Write(string path, IReadOnlyList<(int Step, double Loss)> train, IReadOnlyList<(int Step, double Loss)> validation, string title)
    {
        byte[] png = Render(train, validation, title);
        AtomicFile.Write(path, s => s.Write(png));
    }

    public static byte[] Render(IReadOnlyList<(int Step, double Loss)> train, IReadOnlyList<(int Step, double Loss)> validation, string title)
    {
        var points = train.Concat(validation).Where(p => double.IsFinite(p.Loss)).ToList();
        using var surface = SKSurface.Create(new SKImageInfo(Width, Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        var canvas = surface.Canvas;
        canvas.Clear(SKColors.White);
        using var typeface = LoadTypeface();
        using var font = new SKFont(typeface, 13);
        using var text = new SKPaint { Color = new SKColor(0x33, 0x33, 0x33), IsAntialias = true };
        using var titleFont = new SKFont(typeface, 16);
        canvas.DrawText(title, Left, 26, SKTextAlign.Left, titleFont, text);

        float plotW = Width - Left - Right, plotH = Height - Top - Bottom;
        int x0 = points.Count == 0 ? 0 : points.Min(p => p.Step), x1 = points.Count == 0 ? 1 : Math.Max(points.Max(p => p.Step), x0 + 1);
        double y0 = points.Count == 0 ? 0 : points.Min(p => p.Loss), y1 = points.Count == 0 ? 1 : points.Max(p => p.Loss);
        if (y1 - y0 < 1e-9) (y0, y1) = (y0 - 0.5, y1 + 0.5);
        double pad = (y1 - y0) * 0.05;
        (y0, y1) = (y0 - pad, y1 + pad);
        float X(double step) => Left + (float)((step - x0) / (x1 - x0)) * plotW;
        float Y(double loss) => Top + (float)((y1 - loss) / (y1 - y0)) * plotH;

        using var grid = new SKPaint { Color = new SKColor(0xe6, 0xe6, 0xe6), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        using var axis = new SKPaint { Color = new SKColor(0x66, 0x66, 0x66), StrokeWidth = 1, Style = SKPaintStyle.Stroke };
        foreach (double v in Ticks(y0, y1))
        {
            canvas.DrawLine(Left, Y(v), Left + plotW, Y(v), grid);
            canvas.DrawText(Label(v), Left - 6, Y(v) + 4, SKTextAlign.Right, font, text);
        }
        foreach (double s in Ticks(x0, x1).Where(s => Math.Abs(s - Math.Round(s)) < 1e-9))
        {
            canvas.DrawLine(X(s), Top, X(s), Top + plotH, grid);
            canvas.DrawText(Label(s), X(s), Top + plotH + 18, SKTextAlign.Center, font, text);
        }
        canvas.DrawRect(Left, Top, plotW, plotH, axis);
        canvas.DrawText("step", Left + plotW / 2, Height - 14, SKTextAlign.Center, font, text);

        var finiteTrain = train.Where(p => double.IsFinite(p.Loss)).ToList();
        using var raw = new SKPaint { Color = TrainColor.WithAlpha(70), StrokeWidth = 1, Style = SKPaintStyle.Stroke, IsAntialias = true };
        using var smooth = new SKPaint { Color = TrainColor, StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
        DrawLine(canvas, finiteTrain.Select(p => new SKPoint(X(p.Step), Y(p.Loss))), raw);
        DrawLine(canvas, Smoothed(finiteTrain, 0.9).Select(p => new SKPoint(X(p.Step), Y(p.Loss))), smooth);

        using var val = new SKPaint { Color = ValidationColor, StrokeWidth = 2, Style = SKPaintStyle.Stroke, IsAntialias = true };
        using var dot = new SKPaint { Color = ValidationColor, Style = SKPaintStyle.Fill, IsAntialias = true };
        var finiteVal = validation.Where(p => double.IsFinite(p.Loss)).ToList();
        DrawLine(canvas, finiteVal.Select(p => new SKPoint(X(p.Step), Y(p.Loss))), val);
        foreach (var p in finiteVal) canvas.DrawCircle(X(p.Step), Y(p.Loss), 4, dot);

        // legend
        float lx = Left + plotW - 180, ly = Top + 18;
        canvas.DrawLine(lx, ly - 4, lx + 24, ly - 4, smooth);
        canvas.DrawText("train (smoothed)", lx + 30, ly, SKTextAlign.Left, font, text);
        canvas.DrawCircle(lx + 12, ly + 14, 4, dot);
        canvas.DrawText("validation", lx + 30, ly + 18, SKTextAlign.Left, font, text);

        using var image = surface.Snapshot();
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    /// <summary>TensorBoard's smoothing: ema = w·ema + (1−w)·x, divided by 1 − w^n so the start is not pulled to 0.</summary>
    public static List<(int Step, double Loss)> Smoothed(IReadOnlyList<(int Step, double Loss)> points, double weight)
    {
        var result = new List<(int, double)>(points.Count);
        double ema = 0, debias = 1;
        foreach (var (step, loss) in points)
        {
            ema = ema * weight + (1 - weight) * loss;
            debias *= weight;
            result.Add((step, ema / (1 - debias)));
        }
        return result;
    }

    private static void DrawLine(SKCanvas canvas, IEnumerable<SKPoint> points, SKPaint paint)
    {
        using var path = new SKPath();
        bool first = true;
        foreach (var p in points)
        {
            if (first) path.MoveTo(p);
            else path.LineTo(p);
            first = false;
        }
        canvas.DrawPath(path, paint);
    }

    // about five "nice" tick values (1, 2, 5 × 10^k apart) inside [lo, hi]
    private static IEnumerable<double> Ticks(double lo, double hi)
    {
        double raw = (hi - lo) / 5, mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = raw / mag < 1.5 ? mag : raw / mag < 3.5 ? 2 * mag : raw / mag < 7.5 ? 5 * mag : 10 * mag;
        for (double v = Math.Ceiling(lo / step) * step; v <= hi + step * 1e-9; v += step) yield return Math.Abs(v) < step * 1e-9 ? 0 : v;
    }

    private static string Label(double v) => v == Math.Round(v) ? v.ToString("0", CultureInfo.InvariantCulture) : v.ToString("G4", CultureInfo.InvariantCulture);

    private static SKTypeface LoadTypeface()
    {
        foreach (string f in FontFiles)
            if (File.Exists(f) && SKTypeface.FromFile(f) is { } t) return t;
        return SKTypeface.CreateDefault();
    }
}
