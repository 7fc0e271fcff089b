// The picture of `furnace eval --compare RUN… --plot FILE.png`: one labelled point per run (variant), quality
// (corpus CIDEr-D) up against latency per image (p50, ms) to the right, the point's area growing with the run's peak
// memory — the trade-off of the comparison table (F32 vs Q8_0 vs Q4_K_M vs GPTQ…) at a glance. ScottPlot 5.
using System.Globalization;
using Furnace.IO;
using ScottPlot;

namespace Furnace.Evaluation;

public static class EvalComparePlot
{
    public const int DefaultWidth = 960, DefaultHeight = 600;
    private const float MinMarker = 10, MaxMarker = 40; // diameters, pixels

    /// <summary>One run of the comparison: its label and report (written by eval --model, so it has a latency).</summary>
    public sealed record Run(string Label, string Path, EvalReport Report);

    public static void Write(string path, IReadOnlyList<Run> runs, int width = DefaultWidth, int height = DefaultHeight) =>
        ChartPng.Write(Build(runs), path, width, height);

    /// <summary>The plot: one Marker and one Text label per run.</summary>
    public static Plot Build(IReadOnlyList<Run> runs)
    {
        ArgumentNullException.ThrowIfNull(runs);
        foreach (Run r in runs)
            if (r.Report.LatencyMsP50 is null)
                throw new FurnaceException($"{r.Path}: has no latency_ms_p50 (reports of eval --model have one; scored prediction files do not), so it cannot be placed on the plot");

        Plot plot = ChartPng.NewPlot();
        plot.Title("Caption quality against latency (point area: peak memory)");
        plot.XLabel("latency per image, p50 (ms)");
        plot.YLabel("CIDEr-D");
        double[] memory = runs.Select(r => r.Report.PeakRssMb ?? double.NaN).ToArray();
        double lo = memory.Where(double.IsFinite).DefaultIfEmpty(0).Min(), hi = memory.Where(double.IsFinite).DefaultIfEmpty(0).Max();
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < runs.Count; i++)
        {
            EvalReport rep = runs[i].Report;
            double x = rep.LatencyMsP50!.Value, y = rep.Scores.CiderD;
            // area ∝ memory between the smallest and the largest run; a run without a figure gets the smallest point
            double t = double.IsFinite(memory[i]) && hi > lo ? (memory[i] - lo) / (hi - lo) : 0;
            float size = (float)Math.Sqrt(MinMarker * MinMarker + t * (MaxMarker * MaxMarker - MinMarker * MinMarker));
            var color = palette.GetColor(i);
            var marker = plot.Add.Marker(x, y, MarkerShape.FilledCircle, size, color.WithAlpha(200));
            marker.LegendText = runs[i].Label;
            string memoryText = double.IsFinite(memory[i]) ? string.Create(CultureInfo.InvariantCulture, $", {memory[i]:F0} MB") : "";
            var label = plot.Add.Text(string.Create(CultureInfo.InvariantCulture, $"{runs[i].Label} ({y:F3}{memoryText})"), x, y);
            label.LabelFontSize = 13;
            label.LabelAlignment = Alignment.LowerLeft;
            label.OffsetX = size / 2 + 2;
            label.OffsetY = -size / 2 - 2;
        }
        // the labels stand right of and above their points: leave room there
        var (x0, x1) = Padded(runs.Select(r => r.Report.LatencyMsP50!.Value), 0.15, 0.45);
        var (y0, y1) = Padded(runs.Select(r => r.Report.Scores.CiderD), 0.2, 0.25);
        plot.Axes.SetLimits(x0, x1, y0, y1);
        plot.HideLegend(); // each point carries its label
        return plot;
    }

    private static (double Lo, double Hi) Padded(IEnumerable<double> values, double below, double above)
    {
        double lo = values.Min(), hi = values.Max(), span = hi - lo;
        if (span < 1e-9) span = Math.Max(Math.Abs(hi) * 0.2, 1e-3);
        return (lo - below * span, hi + above * span);
    }
}
