// The pictures of eval: `eval --compare --plot` (EvalComparePlot) and report.html's histograms (EvalReportCharts),
// checked through the plot model (one marker per run) and by decoding the PNG with SkiaSharp.
using Furnace.Evaluation;
using Furnace.IO;
using SkiaSharp;

namespace Furnace.Tests.Evaluation;

public sealed class EvalPlotTests
{
    private static EvalReport Report(double cider, double? p50, double? memory, int images = 1) => new()
    {
        Images = images,
        Scores = new EvalScores(0.7, 0.5, 0.3, 0.2, 0.5, cider),
        LatencyMsP50 = p50,
        LatencyMsP95 = p50 * 1.3,
        PeakRssMb = memory,
        PerImage = Enumerable.Range(0, images).Select(i => new EvalImageScores($"img{i}", "a cat", 0.7, 0.5, 0.3, 0.2, 0.5, cider * (0.5 + i % 3 * 0.5))).ToArray(),
    };

    private static EvalComparePlot.Run[] Runs() =>
    [
        new("F32", "f32.json", Report(0.91, 1800, 2900)),
        new("Q8_0", "q8.json", Report(0.90, 900, 1500)),
        new("Q4_K_M", "q4.json", Report(0.86, 650, 900)),
        new("GPTQ", "gptq.json", Report(0.88, 640, null)),
    ];

    [Fact]
    public void Build_FourRuns_OneLabelledMarkerPerRun()
    {
        var plot = EvalComparePlot.Build(Runs());
        var markers = plot.GetPlottables().OfType<ScottPlot.Plottables.Marker>().ToArray();
        Assert.Equal(["F32", "Q8_0", "Q4_K_M", "GPTQ"], markers.Select(m => m.LegendText));
        Assert.Equal([1800.0, 900, 650, 640], markers.Select(m => m.Location.X));
        Assert.Equal([0.91, 0.90, 0.86, 0.88], markers.Select(m => m.Location.Y));
        Assert.Equal(4, plot.GetPlottables().OfType<ScottPlot.Plottables.Text>().Count());
        // area grows with peak memory; the run without a figure gets the smallest point
        Assert.True(markers[0].MarkerSize > markers[1].MarkerSize && markers[1].MarkerSize > markers[2].MarkerSize);
        Assert.Equal(markers[2].MarkerSize, markers[3].MarkerSize);
    }

    [Theory]
    [InlineData(960, 600)]
    [InlineData(500, 320)]
    public void Encode_RequestedSize_DecodesToThatSize(int width, int height)
    {
        byte[] png = ChartPng.Encode(EvalComparePlot.Build(Runs()), width, height);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        using var bitmap = SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
    }

    [Fact]
    public void Build_ReportWithoutLatency_IsOneLineNamingTheFile()
    {
        EvalComparePlot.Run[] runs = [new("scored", "/tmp/scored.json", Report(0.5, null, null))];
        var e = Assert.Throws<FurnaceException>(() => EvalComparePlot.Build(runs));
        Assert.StartsWith("/tmp/scored.json: has no latency_ms_p50", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ScoreDistribution_PerImageScores_HistogramCountsEveryImage()
    {
        EvalReport report = Report(0.6, 100, 100, images: 30);
        var plot = EvalReportCharts.ScoreDistribution(report);
        using var bitmap = SKBitmap.Decode(ChartPng.Encode(plot, EvalReportCharts.Width, EvalReportCharts.Height));
        Assert.Equal((EvalReportCharts.Width, EvalReportCharts.Height), (bitmap.Width, bitmap.Height));
        var bars = plot.GetPlottables().OfType<ScottPlot.Plottables.HistogramBars>().Single(); // bar heights are set when drawn
        Assert.Equal(30, bars.Bars.Sum(b => b.Value));
    }

    [Fact]
    public void LatencyHistogram_Latencies_HistogramCountsEveryImageAndMarksP50AndP95()
    {
        double[] ms = Enumerable.Range(0, 40).Select(i => 100.0 + i * i).ToArray();
        var plot = EvalReportCharts.LatencyHistogram(ms, 500, 1400);
        ChartPng.Encode(plot, EvalReportCharts.Width, EvalReportCharts.Height); // bar heights are set when drawn
        Assert.Equal(40, plot.GetPlottables().OfType<ScottPlot.Plottables.HistogramBars>().Single().Bars.Sum(b => b.Value));
        Assert.Equal([500.0, 1400], plot.GetPlottables().OfType<ScottPlot.Plottables.VerticalLine>().Select(l => l.X));
    }
}
