// The smaller training pieces: the random generator's saved state, epoch shuffling and seeking, checkpoint pruning,
// the metrics log on resume, and the loss-curve PNG.
using Furnace.Data;
using Furnace.Formats.Images;
using Furnace.Tests.Support;
using Furnace.Training;

namespace Furnace.Tests.Training;

public sealed class TrainingPiecesTests
{
    [Fact]
    public void TrainingRandom_RestoredState_RepeatsTheSequence()
    {
        var a = new TrainingRandom(5);
        for (int i = 0; i < 10; i++) a.NextDouble();
        ulong[] state = a.GetState();
        double[] expected = Enumerable.Range(0, 20).Select(_ => a.NextDouble()).ToArray();
        var b = new TrainingRandom(1);
        b.SetState(state);
        Assert.Equal(expected, Enumerable.Range(0, 20).Select(_ => b.NextDouble()));
        Assert.All(Enumerable.Range(0, 1000).Select(_ => a.Next(7)), v => Assert.InRange(v, 0, 6));
        Assert.All(Enumerable.Range(0, 1000).Select(_ => a.NextSingle()), v => Assert.InRange(v, 0f, 0.99999994f));
        Assert.NotEqual(new TrainingRandom(1).NextUInt64(), new TrainingRandom(2).NextUInt64());
    }

    [Fact]
    public void ShuffledBatches_EpochsArePermutations_SeekRepeats()
    {
        int[] items = Enumerable.Range(0, 10).ToArray();
        var source = new ShuffledBatches<int>(items, 4, 7);
        var epoch0 = new[] { source.Next(), source.Next(), source.Next() }.SelectMany(b => b).ToArray();
        Assert.Equal(new DataPosition(0, 10, 7, 10), source.Position);
        Assert.Equal(items, epoch0.Order());
        Assert.NotEqual(items, epoch0); // shuffled
        var position = source.Position;
        var next = source.Next();
        Assert.Equal(1, source.Position.Epoch);
        var epoch1 = next.Concat(source.Next()).Concat(source.Next()).ToArray();
        Assert.Equal(items, epoch1.Order());
        Assert.NotEqual(epoch0, epoch1);

        var again = new ShuffledBatches<int>(items, 4, 1234);
        again.Seek(position);
        Assert.Equal(next, again.Next());
        Assert.Throws<FurnaceException>(() => again.Seek(new DataPosition(0, 11, 7, 10)));
        Assert.Throws<FurnaceException>(() => again.Seek(new DataPosition(0, 1, 7, 12)));
    }

    [Fact]
    public void CheckpointStore_KeepTwo_PrunesOlderAndPointsLatestAtNewest()
    {
        using var dir = new TempDir();
        var store = new CheckpointStore(dir.File("c"), keep: 2);
        Assert.Null(store.Latest());
        foreach (int step in new[] { 5, 10, 15 })
            store.Save(step, tmp => File.WriteAllText(Path.Combine(tmp, "x.txt"), step.ToString()));
        Assert.Equal(["step-00000010", "step-00000015"], store.List().Select(Path.GetFileName));
        Assert.Equal("15", File.ReadAllText(Path.Combine(store.Latest()!, "x.txt")));
        Assert.Equal("step-00000015\n", File.ReadAllText(dir.File("c/latest")));
        // saving a step that already exists (a rerun from an older checkpoint) replaces it
        store.Save(10, tmp => File.WriteAllText(Path.Combine(tmp, "x.txt"), "again"));
        Assert.Equal("again", File.ReadAllText(Path.Combine(store.Latest()!, "x.txt")));
    }

    [Fact]
    public void MetricsLog_Resume_KeepsLinesUpToTheStepAndDropsATornLine()
    {
        using var dir = new TempDir();
        string path = dir.File("metrics.jsonl");
        using (var log = MetricsLog.Open(path, 0))
        {
            for (int s = 1; s <= 6; s++) log.Append(new StepMetrics(s, 10, 1.0 / s, 1e-3, 0.5, 2, 30, 4, 60, s, 0.1 * s));
            log.Append(new ValidationMetrics(4, 0.3, 8, 0, 5));
            log.AppendSample(4, "cat.jpg", "a cat \"on\" a 沙发");
        }
        File.AppendAllText(path, "{\"type\":\"train\",\"step\":7,\"lo");
        using (var log = MetricsLog.Open(path, 4))
        {
            Assert.Equal([1, 2, 3, 4], log.TrainLoss.Select(p => p.Step));
            Assert.Equal([(4, 0.3)], log.ValidationLoss);
            log.Append(new StepMetrics(5, 10, double.NaN, 1e-3, double.PositiveInfinity, 2, 30, 4, 60, 5, 0.5, Skipped: true));
        }
        string[] lines = File.ReadAllLines(path);
        Assert.Equal(7, lines.Length);
        Assert.Contains("\"caption\":\"a cat \\\"on\\\" a 沙发\"", lines[5]);
        Assert.Equal("{\"type\":\"train\",\"step\":5,\"loss\":null,\"lr\":0.001,\"grad_norm\":null,\"samples\":2,\"tokens\":30,\"samples_per_s\":4,\"tokens_per_s\":60,\"elapsed_s\":5,\"epoch\":0.5,\"skipped\":true}", lines[6]);
    }

    [Fact]
    public void LossCurvePlot_Render_DrawsTheCurves()
    {
        var train = Enumerable.Range(1, 200).Select(s => (s, 3.0 * Math.Exp(-s / 60.0) + 0.5 + 0.1 * Math.Sin(s))).ToList();
        var val = new List<(int, double)> { (50, 2.0), (100, 1.3), (150, 1.0), (200, 0.9) };
        var lr = Enumerable.Range(1, 200).Select(s => (s, 1e-3 * Math.Min(1, s / 20.0))).ToList();
        using var dir = new TempDir();
        string path = dir.File("loss.png");
        LossCurvePlot.Write(path, train, val, "test run", lr);
        var image = ImageDecoder.Load(path);
        Assert.Equal((LossCurvePlot.Width, LossCurvePlot.Height), (image.Width, image.Height));
        int blue = 0, orange = 0;
        for (int i = 0; i < image.Width * image.Height; i++)
        {
            byte r = image.Pixels[3 * i], g = image.Pixels[3 * i + 1], b = image.Pixels[3 * i + 2];
            if (r == LossCurvePlot.TrainColor.Red && g == LossCurvePlot.TrainColor.Green && b == LossCurvePlot.TrainColor.Blue) blue++;
            if (r == LossCurvePlot.ValidationColor.Red && g == LossCurvePlot.ValidationColor.Green && b == LossCurvePlot.ValidationColor.Blue) orange++;
        }
        Assert.True(blue > 300, $"{blue} train-colour pixels");
        Assert.True(orange > 40, $"{orange} validation-colour pixels");
    }

    [Fact]
    public void LossCurvePlot_Build_FourSeriesWithTheLearningRateOnTheRightAxis()
    {
        var train = Enumerable.Range(1, 50).Select(s => (s, 2.0 / s)).ToList();
        var val = new List<(int, double)> { (25, 0.2), (50, 0.1) };
        var lr = Enumerable.Range(1, 50).Select(s => (s, 1e-4)).ToList();
        var plot = LossCurvePlot.Build(train, val, "t", lr);
        var series = plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().ToArray();
        Assert.Equal(["train", "train (smoothed 0.9)", "validation", "learning rate"], series.Select(s => s.LegendText));
        Assert.Same(plot.Axes.Right, series[3].Axes.YAxis);
    }

    [Fact]
    public void LossCurvePlot_LogScale_PlotsLog10AndDropsNonPositiveLosses()
    {
        var train = new List<(int, double)> { (1, 10), (2, 1), (3, 0), (4, 0.1) };
        var plot = LossCurvePlot.Build(train, [], "t", logScale: true);
        var raw = plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().First();
        Assert.Equal([1.0, 0, -1], raw.Data.GetScatterPoints().Select(p => Math.Round(p.Y, 12)));
        using var bitmap = SkiaSharp.SKBitmap.Decode(LossCurvePlot.Render(train, [], "t", logScale: true));
        Assert.Equal((LossCurvePlot.Width, LossCurvePlot.Height), (bitmap.Width, bitmap.Height));
    }
}
