// loss.png: the training loss per step (faint), its exponential moving average (TensorBoard-style smoothing 0.9,
// debiased), the validation loss (orange dots joined by a line) and, on a second axis at the right, the learning
// rate; a legend names each. With logScale the loss axis is logarithmic (decades labelled 10^k, minor ticks between;
// non-positive losses are left out). Drawn with ScottPlot 5 (ChartPng).
using Furnace.IO;
using ScottPlot;
using ScottPlot.TickGenerators;
using SkiaSharp;

namespace Furnace.Training;

public static class LossCurvePlot
{
    public const int Width = 960, Height = 540;
    public static readonly SKColor TrainColor = new(0x1f, 0x77, 0xb4), ValidationColor = new(0xff, 0x7f, 0x0e), LearningRateColor = new(0x2c, 0xa0, 0x2c);
    public const double Smoothing = 0.9;

    /// <summary>Draws the curves and writes a PNG atomically.</summary>
    public static void Write(string path, IReadOnlyList<(int Step, double Loss)> train, IReadOnlyList<(int Step, double Loss)> validation, string title,
        IReadOnlyList<(int Step, double LearningRate)>? learningRate = null, bool logScale = false) =>
        ChartPng.Write(Build(train, validation, title, learningRate, logScale), path, Width, Height);

    public static byte[] Render(IReadOnlyList<(int Step, double Loss)> train, IReadOnlyList<(int Step, double Loss)> validation, string title,
        IReadOnlyList<(int Step, double LearningRate)>? learningRate = null, bool logScale = false) =>
        ChartPng.Encode(Build(train, validation, title, learningRate, logScale), Width, Height);

    /// <summary>The plot: series "train", "train (smoothed)", "validation" and "learning rate", each only when it has points.</summary>
    public static Plot Build(IReadOnlyList<(int Step, double Loss)> train, IReadOnlyList<(int Step, double Loss)> validation, string title,
        IReadOnlyList<(int Step, double LearningRate)>? learningRate = null, bool logScale = false)
    {
        Plot plot = ChartPng.NewPlot();
        plot.Title(title);
        plot.XLabel("step");
        plot.YLabel(logScale ? "loss (log scale)" : "loss");

        bool Keep(double loss) => double.IsFinite(loss) && (!logScale || loss > 0);
        double Y(double loss) => logScale ? Math.Log10(loss) : loss;
        var finiteTrain = train.Where(p => Keep(p.Loss)).ToList();
        var finiteVal = validation.Where(p => Keep(p.Loss)).ToList();

        if (finiteTrain.Count > 0)
        {
            var raw = plot.Add.ScatterLine(Xs(finiteTrain), finiteTrain.Select(p => Y(p.Loss)).ToArray(), Color(TrainColor).WithAlpha(70));
            raw.LineWidth = 1;
            raw.LegendText = "train";
            var smoothed = Smoothed(finiteTrain, Smoothing);
            var smooth = plot.Add.ScatterLine(Xs(smoothed), smoothed.Select(p => Y(p.Loss)).ToArray(), Color(TrainColor));
            smooth.LineWidth = 2;
            smooth.LegendText = $"train (smoothed {Smoothing:0.0#})";
        }
        if (finiteVal.Count > 0)
        {
            var val = plot.Add.Scatter(Xs(finiteVal), finiteVal.Select(p => Y(p.Loss)).ToArray(), Color(ValidationColor));
            val.LineWidth = 2;
            val.MarkerSize = 8;
            val.MarkerShape = MarkerShape.FilledCircle;
            val.LegendText = "validation";
        }
        var lr = learningRate?.Where(p => double.IsFinite(p.LearningRate)).ToList() ?? [];
        if (lr.Count > 0)
        {
            var line = plot.Add.ScatterLine(Xs(lr), lr.Select(p => p.LearningRate).ToArray(), Color(LearningRateColor));
            line.LineWidth = 1.5f;
            line.LinePattern = LinePattern.Dashed;
            line.LegendText = "learning rate";
            line.Axes.YAxis = plot.Axes.Right;
            plot.Axes.Right.Label.Text = "learning rate";
            plot.Axes.Right.TickGenerator = new NumericAutomatic { LabelFormatter = v => v.ToString("0.0#e0", System.Globalization.CultureInfo.InvariantCulture) };
        }
        if (logScale && finiteTrain.Count + finiteVal.Count > 0)
            plot.Axes.Left.TickGenerator = LogTicks(finiteTrain.Concat(finiteVal).Min(p => p.Loss), finiteTrain.Concat(finiteVal).Max(p => p.Loss));
        if (finiteTrain.Count + finiteVal.Count > 0) plot.ShowLegend(Alignment.UpperRight);
        return plot;
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

    // ticks of a log10 axis: labelled at 1, 2 and 5 × 10^k, unlabelled minor ticks at the other integers, one decade
    // beyond the data either side so the autoscaled margins have ticks too
    private static NumericManual LogTicks(double min, double max)
    {
        var ticks = new NumericManual();
        for (int k = (int)Math.Floor(Math.Log10(min)) - 1; k <= (int)Math.Ceiling(Math.Log10(max)); k++)
            for (int m = 1; m <= 9; m++)
            {
                double v = m * Math.Pow(10, k);
                if (m is 1 or 2 or 5) ticks.AddMajor(Math.Log10(v), v.ToString("G3", System.Globalization.CultureInfo.InvariantCulture));
                else ticks.AddMinor(Math.Log10(v));
            }
        return ticks;
    }

    private static double[] Xs(IEnumerable<(int Step, double Value)> points) => points.Select(p => (double)p.Step).ToArray();

    private static ScottPlot.Color Color(SKColor c) => new(c.Red, c.Green, c.Blue);
}
