// `furnace eval --model` end to end on a tiny random LLaVA and a JSONL dataset of generated images: the three output
// files and the report's fields, the incremental log and resuming (a longer --limit captions only the new images; a
// torn last line is dropped; SIGINT stops with exit code 130 and a valid log), HTML escaping, and the user errors.
using System.Diagnostics;
using System.Text.Json;
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Cli.Tests;

public sealed class EvalModelCliFixture : IDisposable
{
    public const string TrickyReference = "a <b>cat</b> & \"dog\" on 'mat'";

    public EvalModelCliFixture()
    {
        Llava = Dir.File("llava");
        TinyLlava.Write(Llava, seed: 5);

        Llm = Dir.File("llm");
        RandomLlama.WriteHuggingFace(Llm, LlamaConfig.Preset("test-tiny"), DType.F32, seed: 3);
        HfTokenizerJson.WriteSynthetic(Llm, 320);

        Directory.CreateDirectory(Dir.File("images"));
        var lines = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            string name = $"img{i}.bmp";
            RandomBmp.Write(Path.Combine(Dir.File("images"), name), 24 + 8 * i, 40 - 4 * i, seed: 10 + i);
            string[] refs = i == 0 ? [TrickyReference, "a cat on a mat"] : [$"picture number {i} of noise", "random coloured pixels"];
            lines.Add(JsonSerializer.Serialize(new { image = "images/" + name, captions = refs }));
        }
        Data = Dir.File("noise.jsonl");
        File.WriteAllLines(Data, lines);

        // many entries over the same images, so a run lasts long enough to be interrupted
        Long = Dir.File("long.jsonl");
        File.WriteAllLines(Long, Enumerable.Range(0, 400).Select(i =>
            JsonSerializer.Serialize(new { id = $"n{i}", image = $"images/img{i % 6}.bmp", captions = new[] { "noise" } })));

        Missing = Dir.File("missing.jsonl");
        File.WriteAllLines(Missing,
        [
            lines[0],
            JsonSerializer.Serialize(new { id = "ghost", image = "images/nowhere.bmp", captions = new[] { "nothing" } }),
        ]);
    }

    public TempDir Dir { get; } = new();

    public string Llava { get; }

    public string Llm { get; }

    public string Data { get; }

    public string Long { get; }

    public string Missing { get; }

    public void Dispose() => Dir.Dispose();
}

public sealed class EvalModelCliTests : IClassFixture<EvalModelCliFixture>
{
    private readonly EvalModelCliFixture _f;

    public EvalModelCliTests(EvalModelCliFixture f) => _f = f;

    private ProcessResult Eval(string outDir, params string[] extra) =>
        FurnaceProcess.Run(["eval", "--model", _f.Llava, "--data", _f.Data, "--max-tokens", "6", "-t", "1", "--out", outDir, .. extra]);

    private static string[] PartialLines(string outDir) =>
        File.ReadAllLines(Path.Combine(outDir, "predictions.partial.jsonl")).Where(l => l.Length > 0).ToArray();

    [Fact]
    public void EvalModel_WritesPredictionsReportAndHtml()
    {
        using var dir = new TempDir();
        string outDir = dir.File("run");
        var r = Eval(outDir, "--limit", "4", "--variant", "tiny <f32>");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("[4/4]", r.Stderr);
        Assert.Contains("| CIDEr-D |", r.Stdout);

        using var predictions = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "predictions.json")));
        var preds = predictions.RootElement.EnumerateArray().ToArray();
        Assert.Equal(["img0", "img1", "img2", "img3"], preds.Select(p => p.GetProperty("image_id").GetString()!).ToArray());
        Assert.All(preds, p => Assert.Equal(JsonValueKind.String, p.GetProperty("caption").ValueKind));
        Assert.Equal(5, PartialLines(outDir).Length); // header + 4 captions

        using var report = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "report.json")));
        var root = report.RootElement;
        Assert.Equal(Path.GetFullPath(_f.Llava), root.GetProperty("model").GetString());
        Assert.Equal("tiny <f32>", root.GetProperty("variant").GetString());
        Assert.Equal(4, root.GetProperty("images").GetInt32());
        Assert.Equal(4, root.GetProperty("per_image").GetArrayLength());
        double p50 = root.GetProperty("latency_ms_p50").GetDouble(), p95 = root.GetProperty("latency_ms_p95").GetDouble();
        Assert.True(p50 > 0 && p95 >= p50, $"p50 {p50}, p95 {p95}");
        Assert.True(root.GetProperty("images_per_s").GetDouble() > 0);
        Assert.True(root.GetProperty("peak_rss_mb").GetDouble() > 10);
        Assert.InRange(root.GetProperty("scores").GetProperty("CIDEr").GetDouble(), 0, 10);

        string html = File.ReadAllText(Path.Combine(outDir, "report.html"));
        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Equal(4, CountOf(html, "<tr><td data-v="));
        Assert.Equal(4, CountOf(html, "src=\"data:image/jpeg;base64,"));
        Assert.Equal(2, CountOf(html, "<figure><img src=\"data:image/png;base64,")); // score distribution, latency histogram
        Assert.DoesNotContain("http://", html);
        Assert.DoesNotContain("https://", html);
        Assert.Contains("a &lt;b&gt;cat&lt;/b&gt; &amp; &quot;dog&quot; on &#39;mat&#39;", html);
        Assert.DoesNotContain("<b>cat", html);
        Assert.Contains("tiny &lt;f32&gt;", html);
        foreach (var p in root.GetProperty("per_image").EnumerateArray())
            Assert.Contains("<td class=\"caption\">" + Furnace.Evaluation.EvalHtmlReport.Escape(p.GetProperty("caption").GetString()!) + "</td>", html);
    }

    [Fact]
    public void EvalModel_RerunWithLongerLimit_CaptionsOnlyTheNewImages()
    {
        using var dir = new TempDir();
        string outDir = dir.File("run");
        var first = Eval(outDir, "--limit", "3");
        Assert.True(first.ExitCode == 0, first.Stderr);
        Assert.Contains("captioned 3 images in this run (0 resumed)", first.Stderr);
        string firstPredictions = File.ReadAllText(Path.Combine(outDir, "predictions.json"));

        var second = Eval(outDir, "--limit", "5");
        Assert.True(second.ExitCode == 0, second.Stderr);
        Assert.Contains("3 of 5 images already captioned, 2 to go", second.Stderr);
        Assert.Contains("captioned 2 images in this run (3 resumed)", second.Stderr);
        Assert.Equal(6, PartialLines(outDir).Length);
        using var preds = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "predictions.json")));
        Assert.Equal(5, preds.RootElement.GetArrayLength());
        // greedy is deterministic: the resumed captions are those of the first run
        using var firstDoc = JsonDocument.Parse(firstPredictions);
        for (int i = 0; i < 3; i++)
            Assert.Equal(firstDoc.RootElement[i].GetProperty("caption").GetString(), preds.RootElement[i].GetProperty("caption").GetString());

        // a line torn by a crash mid-write is dropped, and nothing is left to caption
        File.AppendAllText(Path.Combine(outDir, "predictions.partial.jsonl"), "{\"image_id\": \"img5\", \"capt");
        var third = Eval(outDir, "--limit", "5");
        Assert.True(third.ExitCode == 0, third.Stderr);
        Assert.Contains("captioned 0 images in this run (5 resumed)", third.Stderr);
        Assert.Equal(6, PartialLines(outDir).Length);
    }

    [Fact]
    public void EvalModel_OutOfAnotherRun_IsRefused()
    {
        using var dir = new TempDir();
        string outDir = dir.File("run");
        Assert.Equal(0, Eval(outDir, "--limit", "1").ExitCode);
        var other = Eval(outDir, "--limit", "1", "--lang", "zh");
        Assert.Equal(1, other.ExitCode);
        Assert.Contains("another run", other.Stderr);
    }

    [Fact]
    public async Task EvalModel_Sigint_StopsCleanlyWith130_AndResumes()
    {
        // a child inherits an ignored SIGINT (a non-interactive shell ignores it for `cmd &` jobs): then no program can be interrupted
        Assert.False(SigintIgnored(), "SIGINT is ignored in this test process (started in the background by a non-interactive shell?), so its children cannot be interrupted: run the tests in the foreground");
        using var dir = new TempDir();
        string outDir = dir.File("run");
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "Furnace.Cli.dll"), "eval", "--model", _f.Llava, "--data", _f.Long, "--max-tokens", "48", "-t", "1", "--out", outDir })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stderr = p.StandardError.ReadToEndAsync();
        _ = p.StandardOutput.ReadToEndAsync();
        string partial = Path.Combine(outDir, "predictions.partial.jsonl");
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60) && !p.HasExited && (!File.Exists(partial) || CountLines(partial) < 3)) await Task.Delay(20);
        Assert.False(p.HasExited, "the run ended before it could be interrupted");
        Assert.Equal(0, Kill(p.Id, 2)); // SIGINT, at once: starting a `kill` process can take seconds on a loaded machine
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(timeout.Token);
        string err = await stderr;
        Assert.True(p.ExitCode == 130, err);
        Assert.Contains("interrupted", err);
        string[] lines = PartialLines(outDir);
        Assert.InRange(lines.Length - 1, 2, 399);
        foreach (string l in lines) JsonDocument.Parse(l).Dispose(); // every line is whole
        Assert.False(File.Exists(Path.Combine(outDir, "predictions.json")));

        var resumed = FurnaceProcess.Run("eval", "--model", _f.Llava, "--data", _f.Long, "--max-tokens", "48", "-t", "1", "--out", outDir, "--limit", (lines.Length + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains($"captioned 2 images in this run ({lines.Length - 1} resumed)", resumed.Stderr);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    // /proc/self/status "SigIgn:" is a hex mask with bit (signal − 1) set for each ignored signal; SIGINT is 2
    private static bool SigintIgnored()
    {
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line != null && (Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16) & 2) != 0;
    }

    [Fact]
    public void EvalModel_MissingImage_NamesTheEntry()
    {
        using var dir = new TempDir();
        var r = FurnaceProcess.Run("eval", "--model", _f.Llava, "--data", _f.Missing, "--out", dir.File("run"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("image ghost", r.Stderr);
        Assert.Contains("nowhere.bmp", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void EvalModel_TextOnlyModel_SaysItHasNoVisionTower()
    {
        using var dir = new TempDir();
        var r = FurnaceProcess.Run("eval", "--model", _f.Llm, "--data", _f.Data, "--out", dir.File("run"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("no vision tower", r.Stderr);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-2")]
    public void EvalModel_LimitBelowOne_IsAnError(string limit)
    {
        using var dir = new TempDir();
        var r = FurnaceProcess.Run("eval", "--model", _f.Llava, "--data", _f.Data, "--limit", limit, "--out", dir.File("run"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains($"--limit {limit} must be at least 1", r.Stderr);
    }

    [Fact]
    public void EvalModel_NeedsBothModelAndData()
    {
        var noData = FurnaceProcess.Run("eval", "--model", _f.Llava);
        Assert.Equal(1, noData.ExitCode);
        Assert.Contains("--data", noData.Stderr);
        var mixed = FurnaceProcess.Run("eval", "--model", _f.Llava, "--data", _f.Data, "--predictions", _f.Data);
        Assert.Equal(1, mixed.ExitCode);
        Assert.Contains("cannot be combined", mixed.Stderr);
    }

    private static int CountOf(string text, string part)
    {
        int n = 0;
        for (int i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    private static int CountLines(string path)
    {
        using var s = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(s);
        return reader.ReadToEnd().Count(c => c == '\n');
    }
}
