// `mpirun -np N furnace eval --model` (docs/distributed.md): the images are dealt out over the ranks, and the merged
// predictions.json, report.json and report.html equal the single-process run's (greedy), apart from what measures
// the run itself (latency, throughput, peak memory, the output path); a job whose rank is killed mid-way keeps the
// captions gathered so far, and a rerun on another rank count resumes and ends with the same outputs.
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Furnace.Cli.Tests;

public sealed partial class MpiEvalCliTests : IClassFixture<EvalModelCliFixture>
{
    private readonly EvalModelCliFixture _f;

    public MpiEvalCliTests(EvalModelCliFixture f) => _f = f;

    private string[] Args(string outDir) => ["eval", "--model", _f.Llava, "--data", _f.Data, "--max-tokens", "6", "-t", "1", "--out", outDir];

    // report.json without the fields that measure the run (and the path of its own predictions.json)
    private static string Report(string outDir)
    {
        var node = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")))!.AsObject();
        foreach (string k in new[] { "latency_ms_p50", "latency_ms_p95", "images_per_s", "peak_rss_mb", "predictions" }) Assert.True(node.Remove(k), k);
        return node.ToJsonString();
    }

    [GeneratedRegex("<tr><th>(latency per image|throughput|peak memory)</th><td>[^<]*</td></tr>\n")]
    private static partial Regex TimingFacts();

    // the latency histogram is a picture of the run's own timings
    [GeneratedRegex("<figure><img src=\"data:image/png;base64,[^\"]*\" alt=\"Caption latency per image[^\"]*\">")]
    private static partial Regex LatencyChart();

    private static string Html(string outDir) =>
        LatencyChart().Replace(TimingFacts().Replace(File.ReadAllText(Path.Combine(outDir, "report.html")), ""), "<figure>latency chart");

    private static void AssertSameOutputs(string expected, string actual)
    {
        Assert.Equal(File.ReadAllText(Path.Combine(expected, "predictions.json")), File.ReadAllText(Path.Combine(actual, "predictions.json")));
        Assert.Equal(Report(expected), Report(actual));
        Assert.Equal(Html(expected), Html(actual));
    }

    [Fact]
    public void MpirunEval_TwoRanksAndKilledThenResumedOnThree_OutputsEqualSingleProcess()
    {
        using var dir = new TempDir();
        string single = dir.File("single");
        var one = FurnaceProcess.Run(Args(single));
        Assert.True(one.ExitCode == 0, one.Stderr);

        string two = dir.File("np2");
        var r = Mpirun.Run(2, Args(two));
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Contains("on 2 MPI ranks", r.Stderr);
        Assert.Contains("| CIDEr-D |", r.Stdout);
        AssertSameOutputs(single, two);

        // two ranks, rank 1 killed after the second round: the first round's 2 captions are surely logged (rank 0 logs
        // a round before the next one starts), the second's perhaps; no outputs yet. Three ranks finish the run.
        string killed = dir.File("killed");
        var k = Mpirun.Run(2, new Dictionary<string, string> { ["FURNACE_FAULT"] = "1:2:kill", ["FURNACE_MPI_TIMEOUT"] = "20" }, Args(killed));
        Assert.NotEqual(0, k.ExitCode);
        Assert.Contains("rank 1", k.Stderr + k.Stdout);
        Assert.False(File.Exists(Path.Combine(killed, "predictions.json")));
        int kept = File.ReadAllLines(Path.Combine(killed, "predictions.partial.jsonl")).Count(l => l.Length > 0) - 1;
        Assert.True(kept is 2 or 4, $"{kept} captions kept");

        var resumed = Mpirun.Run(3, Args(killed));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr + resumed.Stdout);
        Assert.Contains($"{kept} of 6 images already captioned", resumed.Stderr);
        AssertSameOutputs(single, killed);
    }
}
