// Test support: the resume check the training-run tests share — train a config once uninterrupted (DIR/full) and
// once cancelled after a chosen step, then resumed (DIR/cut) — and the comparisons of the two folders.
using Furnace.Training;

namespace Furnace.Tests.Support;

public static class InterruptedRun
{
    /// <summary>Runs <paramref name="configPath"/> into DIR/full, and into DIR/cut cancelled after the first step that
    /// <paramref name="cancelAfter"/> (stage, step) accepts; <paramref name="beforeResume"/> sees the cut config before
    /// the run is resumed. Returns the two folders.</summary>
    public static (string Full, string Cut) FullAndResumed(TempDir dir, string configPath, Func<TrainStage, int, bool> cancelAfter,
        Action<TrainConfig>? beforeResume = null)
    {
        var full = TrainConfig.Load(configPath, new TrainConfig.Overrides(Out: dir.File("full")));
        new TrainingRun(full, false, NoEncoder).Run();

        var cut = TrainConfig.Load(configPath, new TrainConfig.Overrides(Out: dir.File("cut")));
        using (var cts = new CancellationTokenSource())
        {
            var first = new TrainingRun(cut, false, NoEncoder);
            first.StageStarted += (stage, trainer) => trainer.StepCompleted += m => { if (cancelAfter(stage, m.Step)) cts.Cancel(); };
            Assert.Throws<OperationCanceledException>(() => first.Run(cts.Token));
        }
        beforeResume?.Invoke(cut);
        new TrainingRun(cut, true, NoEncoder).Run();
        return (dir.File("full"), dir.File("cut"));
    }

    /// <summary>The files (relative paths) are byte-identical in both folders.</summary>
    public static void AssertSameFiles(string full, string cut, params string[] files)
    {
        foreach (string file in files)
            Assert.True(File.ReadAllBytes(Path.Combine(full, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(cut, file))), file);
    }

    /// <summary>A stage's train records (step, loss, lr, grad norm: everything before the timing fields) in both folders agree.</summary>
    public static void AssertSameTrainMetrics(string full, string cut, string stage)
    {
        string Train(string root) => string.Join('\n', File.ReadAllLines(Path.Combine(root, stage, "metrics.jsonl"))
            .Where(l => l.Contains("\"type\":\"train\"")).Select(l => l[..l.IndexOf(",\"samples\"", StringComparison.Ordinal)]));
        Assert.Equal(Train(full), Train(cut));
    }

    // the tiny models here have their vision tower inside: opening an external encoder is a path the tests did not mean
    private static Furnace.Models.Vlm.IVisionEncoder NoEncoder(string path) => throw new InvalidOperationException(path);
}
