// Repeated measurement as DESIGN.md's performance method asks, for any engine run in this process: one untimed
// warm-up rep, then at least 3 timed reps, each started on an idle machine (CpuShare.WaitForIdle) and redone when
// other processes took more than the threshold while it ran; medians are reported with the worst share seen.
namespace Furnace.Benchmarking;

public sealed record RepOptions
{
    public int Reps { get; init; } = 3;

    /// <summary>Other processes' largest allowed share of the machine before and during a rep.</summary>
    public double IdleThreshold { get; init; } = 0.05;

    /// <summary>How long to wait for an idle machine before a rep (then it runs anyway and the share is reported).</summary>
    public TimeSpan MaxIdleWait { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a disturbed rep is redone before its figure is kept anyway.</summary>
    public int MaxRedo { get; init; } = 3;

    public RepOptions Validated()
    {
        if (Reps is < 1 or > 1000) throw new FurnaceException($"--reps {Reps} must be between 1 and 1000");
        if (!(IdleThreshold is > 0 and <= 1)) throw new FurnaceException($"idle threshold {IdleThreshold} must be in (0, 1]");
        return this;
    }
}

/// <summary>One timed rep: the figures it produced (by name) and other processes' share of the machine during it.</summary>
public sealed record RepResult(IReadOnlyDictionary<string, double> Figures, double OthersShare, double OthersShareBefore);

public static class Reps
{
    /// <summary>Runs warmUp once (untimed), then options.Reps times rep, each on an idle machine.</summary>
    public static IReadOnlyList<RepResult> Run(Func<IReadOnlyDictionary<string, double>> rep, RepOptions options, Action? warmUp = null)
    {
        options.Validated();
        if (warmUp != null) warmUp();
        else rep();
        var results = new List<RepResult>();
        for (int i = 0; i < options.Reps; i++)
        {
            RepResult r;
            int tries = 0;
            do
            {
                double before = CpuShare.WaitForIdle(options.IdleThreshold, options.MaxIdleWait);
                CpuShare.Sample start = CpuShare.Now();
                IReadOnlyDictionary<string, double> figures = rep();
                r = new RepResult(figures, CpuShare.Now().OthersSince(start), before);
            }
            while (r.OthersShare >= options.IdleThreshold && ++tries <= options.MaxRedo);
            results.Add(r);
        }
        return results;
    }

    /// <summary>The median of one figure over the reps (the upper median for an even count).</summary>
    public static double Median(IReadOnlyList<RepResult> reps, string figure)
    {
        if (reps.Count == 0) throw new ArgumentException("no reps");
        double[] v = reps.Select(r => r.Figures[figure]).Order().ToArray();
        return v[v.Length / 2];
    }

    /// <summary>
    /// The fields every benchmark's JSON line carries for its reps: "reps", the median of each figure, each figure's
    /// per-rep values ("&lt;figure&gt;_reps"), and "other_cpu_pct" (WorstOthersShare, in percent); figures rounded to 2 places.
    /// </summary>
    public static void Report(IDictionary<string, object> into, IReadOnlyList<RepResult> reps, params string[] figures)
    {
        into["reps"] = reps.Count;
        foreach (string f in figures) into[f] = Math.Round(Median(reps, f), 2);
        foreach (string f in figures) into[f + "_reps"] = reps.Select(r => Math.Round(r.Figures[f], 2)).ToArray();
        into["other_cpu_pct"] = Math.Round(100 * WorstOthersShare(reps), 1);
    }

    /// <summary>The largest share of the machine other processes took before or during any rep.</summary>
    public static double WorstOthersShare(IReadOnlyList<RepResult> reps) =>
        reps.Count == 0 ? 0 : reps.Max(r => Math.Max(r.OthersShare, r.OthersShareBefore));
}
