// The plain progress lines the CLI writes when stderr is not a terminal (CI logs): one per ~5 % and the last,
// "[done/total] detail, rate unit/s, ETA …", timed by a clock the test drives.
using Furnace.Cli.Commands;

namespace Furnace.Cli.Tests;

public sealed class ProgressLineTests
{
    private static (ProgressLine Line, StringWriter Output, Action<double> SetSeconds) Make(int total, int start, string unit)
    {
        var output = new StringWriter { NewLine = "\n" };
        double seconds = 0;
        var line = new ProgressLine(total, start, unit, output, () => TimeSpan.FromSeconds(seconds));
        return (line, output, s => seconds = s);
    }

    private static string[] Lines(StringWriter w) => w.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public void Report_EveryItemOfAHundred_OneLinePerTwentiethAndTheLast()
    {
        var (line, output, setSeconds) = Make(100, 0, "images");
        for (int done = 1; done <= 100; done++)
        {
            setSeconds(done * 0.5);
            line.Report(done);
        }
        string[] lines = Lines(output);
        Assert.Equal(21, lines.Length); // steps 0..20 of 5 % each
        Assert.Equal("[1/100] 2.00 images/s, ETA 49s", lines[0]);
        Assert.Equal("[5/100] 2.00 images/s, ETA 47s", lines[1]);
        Assert.Equal("[100/100] 2.00 images/s", lines[^1]);
    }

    [Fact]
    public void Report_ResumedRunWithDetail_RateCountsOnlyThisRunsItems()
    {
        var (line, output, setSeconds) = Make(1000, 400, "steps");
        setSeconds(100);
        line.Report(500, "s1 loss 2.3100, lr 2.0e-4");
        Assert.Equal(["[500/1000] s1 loss 2.3100, lr 2.0e-4, 1.00 steps/s, ETA 8m20s"], Lines(output));
    }

    [Fact]
    public void Report_SameTwentiethTwice_WritesOnce()
    {
        var (line, output, setSeconds) = Make(100, 0, "chunks");
        setSeconds(1);
        line.Report(10);
        line.Report(11);
        line.Report(14);
        line.Report(15);
        Assert.Equal(2, Lines(output).Length);
    }

    [Theory]
    [InlineData(42, "42s")]
    [InlineData(185, "3m05s")]
    [InlineData(7500, "2h05m")]
    public void Duration_Seconds_ShortestReadableForm(int seconds, string expected) =>
        Assert.Equal(expected, ProgressLine.Duration(TimeSpan.FromSeconds(seconds)));
}
