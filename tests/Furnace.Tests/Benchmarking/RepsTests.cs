// The fair-measurement plumbing of the benchmarks (no timings asserted): the CPU-share arithmetic, this process's own
// jiffies growing with work, and the warm-up + reps + median protocol.
using Furnace.Benchmarking;

namespace Furnace.Tests.Benchmarking;

public sealed class RepsTests
{
    [Fact]
    public void OthersSince_BusyMinusOwnOverTotal()
    {
        var a = new CpuShare.Sample(Busy: 1000, Total: 5000, Own: 200);
        var b = new CpuShare.Sample(Busy: 1150, Total: 5200, Own: 300); // 150 busy of 200, 100 of them ours
        Assert.Equal(0.25, b.OthersSince(a), 12);
        Assert.Equal(0, a.OthersSince(a));
    }

    [Fact]
    public void Now_AfterBusyWork_OwnJiffiesGrow()
    {
        Assert.True(CpuShare.Available, "this suite runs on Linux");
        CpuShare.Sample a = CpuShare.Now();
        var sw = System.Diagnostics.Stopwatch.StartNew();
        double x = 0;
        while (sw.ElapsedMilliseconds < 120) x += Math.Sqrt(x + 1);
        CpuShare.Sample b = CpuShare.Now();
        Assert.True(b.Own > a.Own, $"own jiffies {a.Own} -> {b.Own} (x = {x})");
        Assert.True(b.Total > a.Total && b.Busy >= a.Busy);
    }

    [Fact]
    public void Run_NoWarmUpGiven_FirstRepUntimedThenRepsMedians()
    {
        int calls = 0;
        double[] speeds = [999, 30, 10, 20]; // the first call is the warm-up and must not count
        // threshold 1 and no redo: every rep counts whatever the machine's load, so the call count is exact
        var options = new RepOptions { Reps = 3, IdleThreshold = 1, MaxIdleWait = TimeSpan.Zero, MaxRedo = 0 };
        IReadOnlyList<RepResult> reps = Reps.Run(() => new Dictionary<string, double> { ["tok_s"] = speeds[calls++] }, options);
        Assert.Equal(4, calls);
        Assert.Equal(3, reps.Count);
        Assert.Equal(20, Reps.Median(reps, "tok_s"));
        Assert.InRange(Reps.WorstOthersShare(reps), 0, 1);
    }

    [Fact]
    public void Validated_ZeroReps_Throws() =>
        Assert.Contains("--reps 0", Assert.Throws<FurnaceException>(() => new RepOptions { Reps = 0 }.Validated()).Message);
}
