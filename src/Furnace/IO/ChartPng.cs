// The charts Furnace draws (loss.png, eval --compare --plot, report.html's histograms, the bench ratio charts) are
// ScottPlot 5 plots rendered through SkiaSharp; this holds what they share: a plot with a font that exists here,
// and PNG encoding / atomic writing at a given size.
// SkiaSharp's NoDependencies build cannot ask fontconfig, so DejaVu Sans (or Arial) is registered from its file
// when the system has it; without any, ScottPlot's default typeface is used.
using ScottPlot;

namespace Furnace.IO;

public static class ChartPng
{
    private const string FontName = "Furnace Sans";

    private static readonly string[] FontFiles =
    [
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/dejavu/DejaVuSans.ttf",
        "/System/Library/Fonts/Supplemental/Arial.ttf",
        "C:/Windows/Fonts/arial.ttf",
    ];

    private static readonly Lazy<string?> Font = new(() =>
    {
        foreach (string f in FontFiles)
            if (File.Exists(f))
            {
                Fonts.AddFontFile(FontName, f);
                return FontName;
            }
        return null;
    });

    /// <summary>An empty plot whose every label uses the registered font.</summary>
    public static Plot NewPlot()
    {
        var plot = new Plot();
        if (Font.Value is string name) plot.Font.Set(name);
        return plot;
    }

    /// <summary>The plot as PNG bytes, <paramref name="width"/>×<paramref name="height"/> pixels.</summary>
    public static byte[] Encode(Plot plot, int width, int height)
    {
        ArgumentNullException.ThrowIfNull(plot);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    /// <summary>Writes the plot as a PNG atomically (temporary file, then rename).</summary>
    public static void Write(Plot plot, string path, int width, int height)
    {
        byte[] png = Encode(plot, width, height);
        AtomicFile.Write(path, s => s.Write(png));
    }

    /// <summary>A data: URL of the plot's PNG, for pages that must stand alone (report.html).</summary>
    public static string DataUrl(Plot plot, int width, int height) => "data:image/png;base64," + Convert.ToBase64String(Encode(plot, width, height));
}
