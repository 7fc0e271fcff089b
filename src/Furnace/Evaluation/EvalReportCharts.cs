// The pictures report.html of `furnace eval --model` shows beside its tables: how the per-image CIDEr-D scores are
// spread (a histogram, the corpus score marked) and how long each image took to caption (a latency histogram, p50
// and p95 marked). ScottPlot 5 histograms, embedded in the page as PNG data: URLs.
using System.Globalization;
using Furnace.IO;
using ScottPlot;
using ScottPlot.Statistics;

namespace Furnace.Evaluation;

public static class EvalReportCharts
{
    public const int Width = 640, Height = 360;

    /// <summary>Per-image CIDEr-D as a histogram, with the corpus CIDEr-D as a dashed line.</summary>
    public static Plot ScoreDistribution(EvalReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        double[] scores = (report.PerImage ?? []).Select(p => p.CiderD).Where(double.IsFinite).ToArray();
        Plot plot = Histogram(scores, "Per-image CIDEr-D", "CIDEr-D", new ScottPlot.Color(0x1f, 0x77, 0xb4));
        Marker(plot, report.Scores.CiderD, $"corpus {report.Scores.CiderD.ToString("F3", CultureInfo.InvariantCulture)}");
        return plot;
    }

    /// <summary>Caption latency per image (ms) as a histogram, with p50 and p95 as dashed lines.</summary>
    public static Plot LatencyHistogram(IReadOnlyList<double> milliseconds, double p50, double p95)
    {
        ArgumentNullException.ThrowIfNull(milliseconds);
        Plot plot = Histogram(milliseconds.Where(double.IsFinite).ToArray(), "Latency per image", "milliseconds", new ScottPlot.Color(0x2c, 0xa0, 0x2c));
        Marker(plot, p50, $"p50 {p50.ToString("F1", CultureInfo.InvariantCulture)} ms");
        Marker(plot, p95, $"p95 {p95.ToString("F1", CultureInfo.InvariantCulture)} ms");
        return plot;
    }

    private static Plot Histogram(double[] values, string title, string xLabel, ScottPlot.Color color)
    {
        Plot plot = ChartPng.NewPlot();
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel("images");
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true }; // counts
        if (values.Length > 0)
        {
            double lo = values.Min(), hi = values.Max();
            if (hi - lo < 1e-12) (lo, hi) = (lo - 0.5, hi + 0.5);
            int bins = Math.Clamp((int)Math.Ceiling(Math.Sqrt(values.Length)), 5, 40);
            var hist = ScottPlot.Statistics.Histogram.WithBinCount(bins, lo, hi);
            hist.AddRange(values);
            var bars = plot.Add.Histogram(hist);
            bars.BarWidthFraction = 0.9;
            foreach (var bar in bars.Bars) bar.FillColor = color;
            double width = (hi - lo) / bins;
            plot.Axes.SetLimits(lo - width, hi + width, 0, hist.Counts.Max() * 1.25); // room for the legend above the bars
        }
        return plot;
    }

    private static void Marker(Plot plot, double x, string label)
    {
        if (!double.IsFinite(x)) return;
        var line = plot.Add.VerticalLine(x, 1.5f, new ScottPlot.Color(0xd6, 0x27, 0x28));
        line.LinePattern = LinePattern.Dashed;
        line.LegendText = label;
        plot.ShowLegend(Alignment.UpperRight);
    }
}
