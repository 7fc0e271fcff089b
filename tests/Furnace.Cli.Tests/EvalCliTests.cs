// `furnace eval` end to end: coco-caption's fakecap demo through the CLI, coco-mini's human captions scored against
// each other, the one-line user errors, and `--compare`.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Furnace.Tests.Support;

namespace Furnace.Cli.Tests;

public sealed class EvalCliTests
{
    private static readonly string FakecapResults = SharedPaths.Fixtures("metrics", "captions_val2014_fakecap_results.json");
    private static readonly string Fakecap = SharedPaths.Fixtures("metrics", "fakecap_tokenized_spice_input.json");
    private static readonly string CocoMini = SharedPaths.Data("coco-mini", "captions.json");

    private static JsonElement Scores(JsonDocument report) => report.RootElement.GetProperty("scores");

    [Fact]
    public void Eval_FakecapResults_ReproducesCocoCaptionDemo()
    {
        using var dir = new TempDir();
        string report = dir.File("fakecap.json");
        var r = FurnaceProcess.Run("eval", "--predictions", FakecapResults, "--references", Fakecap, "--out", report);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("| BLEU-4  | 0.191 |", r.Stdout);
        Assert.Contains("| ROUGE-L | 0.396 |", r.Stdout);
        Assert.Contains("| CIDEr-D | 0.600 |", r.Stdout);

        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        Assert.Equal(0.1908290437674253, Scores(doc).GetProperty("Bleu_4").GetDouble(), 1e-12);
        Assert.Equal(0.600, Math.Round(Scores(doc).GetProperty("CIDEr").GetDouble(), 3));
        Assert.Equal(1000, doc.RootElement.GetProperty("images").GetInt32());
        Assert.Equal(1000, doc.RootElement.GetProperty("per_image").GetArrayLength());
        Assert.Equal(9855, doc.RootElement.GetProperty("bleu_stats").GetProperty("reflen").GetInt64());
    }

    [Fact]
    public void Eval_FakecapPretokenized_MatchesTheLibraryExactly()
    {
        using var dir = new TempDir();
        string report = dir.File("r.json");
        var r = FurnaceProcess.Run("eval", "-p", Fakecap, "-r", Fakecap, "--pretokenized", "-o", report);
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(File.ReadAllText(report));
        Assert.Equal(0.5997905185184196, Scores(doc).GetProperty("CIDEr").GetDouble(), 1e-12);
        Assert.Equal(0.39625269357570886, Scores(doc).GetProperty("ROUGE_L").GetDouble(), 1e-12);
        Assert.True(doc.RootElement.GetProperty("pretokenized").GetBoolean());
    }

    // coco-mini's first human caption of each image as the "prediction", the other four as references: real human
    // agreement, so every score is well inside its range; a constant caption must score lower on every metric.
    [Fact]
    public void Eval_CocoMini_FirstCaptionAgainstTheOtherFour()
    {
        using var dir = new TempDir();
        var coco = JsonNode.Parse(File.ReadAllText(CocoMini))!;
        var firstOf = new Dictionary<long, string>();
        var rest = new JsonArray();
        foreach (var ann in coco["annotations"]!.AsArray())
        {
            long id = ann!["image_id"]!.GetValue<long>();
            if (firstOf.TryAdd(id, ann["caption"]!.GetValue<string>())) continue;
            rest.Add(ann.DeepClone());
        }
        Assert.Equal(239, firstOf.Count);
        coco["annotations"] = rest;
        string refs = dir.File("captions_other4.json");
        File.WriteAllText(refs, coco.ToJsonString());
        string human = dir.File("human.json"), constant = dir.File("constant.json");
        File.WriteAllText(human, new JsonArray([.. firstOf.Select(p => new JsonObject { ["image_id"] = p.Key, ["caption"] = p.Value })]).ToJsonString());
        File.WriteAllText(constant, new JsonArray([.. firstOf.Select(p => new JsonObject { ["image_id"] = p.Key, ["caption"] = "A picture of a thing." })]).ToJsonString());

        var h = FurnaceProcess.Run("eval", "-p", human, "-r", refs, "-o", dir.File("h.json"));
        Assert.True(h.ExitCode == 0, h.Stderr);
        Assert.Contains("scored 239 images", h.Stdout);
        var c = FurnaceProcess.Run("eval", "-p", constant, "-r", refs, "-o", dir.File("c.json"));
        Assert.True(c.ExitCode == 0, c.Stderr);

        using var hd = JsonDocument.Parse(File.ReadAllText(dir.File("h.json")));
        using var cd = JsonDocument.Parse(File.ReadAllText(dir.File("c.json")));
        foreach (var metric in Scores(hd).EnumerateObject())
        {
            double humanScore = metric.Value.GetDouble(), constantScore = Scores(cd).GetProperty(metric.Name).GetDouble();
            Assert.InRange(humanScore, 1e-3, 1.0);
            Assert.True(constantScore < humanScore, $"{metric.Name}: constant {constantScore} >= human {humanScore}");
        }
        // (Measured: BLEU-1 0.648, BLEU-4 0.209, ROUGE-L 0.478, CIDEr-D 0.963.) Human captions share most unigrams with the other four, and BLEU-n falls with n.
        Assert.True(Scores(hd).GetProperty("Bleu_1").GetDouble() > 0.5);
        Assert.True(Scores(hd).GetProperty("Bleu_4").GetDouble() < Scores(hd).GetProperty("Bleu_1").GetDouble());
    }

    [Fact]
    public void Eval_JsonlReferencesWithImages_Scores()
    {
        using var dir = new TempDir();
        string image = SharedPaths.Data("coco-mini", "val2017", "000000000139.jpg");
        string refs = dir.File("refs.jsonl");
        File.WriteAllText(refs,
            JsonSerializer.Serialize(new Dictionary<string, object> { ["id"] = 1, ["image"] = image, ["captions"] = new[] { "A dog on a bed.", "A dog sleeping." } }) + "\n" +
            JsonSerializer.Serialize(new Dictionary<string, object> { ["id"] = 2, ["image"] = image, ["captions"] = new[] { "Two cats on a sofa." } }) + "\n");
        string pred = dir.File("pred.json");
        File.WriteAllText(pred, """[{"image_id": 1, "caption": "a dog on a bed"}, {"image_id": "2", "caption": "two cats on a sofa"}]""");
        var r = FurnaceProcess.Run("eval", "-p", pred, "-r", refs);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("| ROUGE-L | 1.000 |", r.Stdout);
    }

    [Fact]
    public void Eval_PredictionWithoutReferences_NamesTheImage()
    {
        using var dir = new TempDir();
        string pred = dir.File("pred.json");
        File.WriteAllText(pred, """[{"image_id": 404464, "caption": "a man"}, {"image_id": 999999999, "caption": "a dog"}]""");
        var r = FurnaceProcess.Run("eval", "-p", pred, "-r", Fakecap);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"furnace: error: {pred}: image 999999999 has a prediction but no references in {Fakecap}", r.Stderr.Trim());
    }

    [Fact]
    public void Eval_EmptyCaption_NamesTheImage()
    {
        using var dir = new TempDir();
        string pred = dir.File("pred.json");
        File.WriteAllText(pred, """[{"image_id": 404464, "caption": "a man"}, {"image_id": 380932, "caption": ""}]""");
        var r = FurnaceProcess.Run("eval", "-p", pred, "-r", Fakecap);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"furnace: error: {pred}: image 380932: empty caption ([1])", r.Stderr.Trim());
    }

    [Fact]
    public void Eval_MalformedJson_NamesTheFile()
    {
        using var dir = new TempDir();
        string pred = dir.File("pred.json");
        File.WriteAllText(pred, "[{\"image_id\": 1,\n \"caption\": \"a\"\n");
        var r = FurnaceProcess.Run("eval", "-p", pred, "-r", Fakecap);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"furnace: error: {pred}: malformed JSON at line ", r.Stderr);
        Assert.DoesNotContain("   at ", r.Stderr);

        string refs = dir.File("refs.json");
        File.WriteAllText(refs, "{\"images\": [}");
        var r2 = FurnaceProcess.Run("eval", "-p", FakecapResults, "-r", refs);
        Assert.Equal(1, r2.ExitCode);
        Assert.StartsWith($"furnace: error: {refs}: malformed JSON at line 1", r2.Stderr);
    }

    [Fact]
    public void Eval_NoMode_AsksForPredictionsAndReferences()
    {
        var r = FurnaceProcess.Run("eval", "--predictions", FakecapResults);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--predictions and --references are both required", r.Stderr);
    }

    [Fact]
    public void Compare_WithScoringOptions_IsRefused()
    {
        var r = FurnaceProcess.Run("eval", "--compare", "a.json", "--out", "b.json");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--compare reads eval reports; it cannot be combined with", r.Stderr);
    }

    [Fact]
    public void Eval_Help_HasExamplesForEachMode()
    {
        var r = FurnaceProcess.Run("eval", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("furnace eval --predictions results.json --references captions_val2017.json", r.Stdout);
        Assert.Contains("--pretokenized", r.Stdout);
        Assert.Contains("furnace eval --compare run1.json run2.json", r.Stdout);
    }

    [Fact]
    public void Compare_TwoReports_OneMarkdownTableWithDashesForMissingFields()
    {
        using var dir = new TempDir();
        string a = dir.File("baseline.json"), b = dir.File("q4.json");
        Assert.Equal(0, FurnaceProcess.Run("eval", "-p", FakecapResults, "-r", Fakecap, "-o", a).ExitCode);
        Assert.Equal(0, FurnaceProcess.Run("eval", "-p", Fakecap, "-r", Fakecap, "--pretokenized", "-o", b).ExitCode);
        // What eval --model will add: model, variant and the performance fields.
        var node = JsonNode.Parse(File.ReadAllText(b))!;
        node["model"] = "tiny-vlm.gguf";
        node["variant"] = "q4_0 | 2 threads";
        node["latency_ms_p50"] = 812.25;
        node["latency_ms_p95"] = 1020.5;
        node["images_per_s"] = 1.234;
        node["peak_rss_mb"] = 1536.4;
        node["scores"]!["CLIPScore"] = 0.7512;
        File.WriteAllText(b, node.ToJsonString());

        var r = FurnaceProcess.Run("eval", "--compare", a, b);
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Trim().Split('\n').Select(l => l.TrimEnd()).ToArray();
        Assert.Equal(4, lines.Length);
        Assert.Equal(
            ["variant", "latency p50 (ms)", "latency p95 (ms)", "images/s", "peak memory (MB)", "BLEU-4", "ROUGE-L", "CIDEr-D", "CLIPScore"],
            Cells(lines[0]));
        Assert.Matches(@"^\|-+\|(-+:\|){8}$", lines[1]);
        Assert.Equal(["baseline", "—", "—", "—", "—", "0.191", "0.396", "0.600", "—"], Cells(lines[2]));
        Assert.Equal(["q4_0 \\| 2 threads", "812.2", "1020.5", "1.23", "1536", "0.191", "0.396", "0.600", "0.751"], Cells(lines[3]).Select(c => c.ToString(CultureInfo.InvariantCulture)));
    }

    // A report as eval --model writes it (variant, latency, memory), from the scored fakecap report.
    private static string ModelReport(TempDir dir, string scored, string variant, double p50, double? memory)
    {
        var node = JsonNode.Parse(File.ReadAllText(scored))!;
        node["variant"] = variant;
        node["latency_ms_p50"] = p50;
        node["latency_ms_p95"] = p50 * 1.2;
        node["images_per_s"] = 1000 / p50;
        if (memory is double m) node["peak_rss_mb"] = m;
        string path = dir.File(variant + ".json");
        File.WriteAllText(path, node.ToJsonString());
        return path;
    }

    [Fact]
    public void Compare_WithPlot_WritesAPngOfTheRequestedSizeWithOnePointPerRun()
    {
        using var dir = new TempDir();
        string scored = dir.File("scored.json");
        Assert.Equal(0, FurnaceProcess.Run("eval", "-p", Fakecap, "-r", Fakecap, "--pretokenized", "-o", scored).ExitCode);
        string[] reports = [ModelReport(dir, scored, "F32", 1800, 2900), ModelReport(dir, scored, "Q8_0", 900, 1500), ModelReport(dir, scored, "Q4_K_M", 650, null)];
        string png = dir.File("tradeoff.png");

        var r = FurnaceProcess.Run(["eval", "--compare", .. reports, "--plot", png, "--plot-size", "720x450"]);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal(5, r.Stdout.Trim().Split('\n').Length); // the table is printed as without --plot
        Assert.Contains($"wrote {png}", r.Stderr);
        using var bitmap = SkiaSharp.SKBitmap.Decode(png);
        Assert.NotNull(bitmap);
        Assert.Equal((720, 450), (bitmap.Width, bitmap.Height));
        // one point per run: the plot of the same reports has one marker each, in order
        var runs = reports.Select(p => new Furnace.Evaluation.EvalComparePlot.Run(Path.GetFileNameWithoutExtension(p), p, Furnace.Evaluation.EvalReport.Read(p))).ToArray();
        var markers = Furnace.Evaluation.EvalComparePlot.Build(runs).GetPlottables().OfType<ScottPlot.Plottables.Marker>();
        Assert.Equal(["F32", "Q8_0", "Q4_K_M"], markers.Select(m => m.LegendText));
    }

    [Fact]
    public void Compare_PlotOfAReportWithoutLatency_IsOneLineNamingItAndWritesNothing()
    {
        using var dir = new TempDir();
        string scored = dir.File("scored.json"), png = dir.File("p.png");
        Assert.Equal(0, FurnaceProcess.Run("eval", "-p", Fakecap, "-r", Fakecap, "--pretokenized", "-o", scored).ExitCode);
        var r = FurnaceProcess.Run("eval", "--compare", scored, "--plot", png);
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"furnace: error: {scored}: has no latency_ms_p50", r.Stderr.Trim());
        Assert.Equal("", r.Stdout);
        Assert.False(File.Exists(png));
    }

    [Theory]
    [InlineData("--plot", "p.png")]
    [InlineData("--plot-size", "100x100")]
    public void Plot_WithoutCompare_IsRefused(string option, string value)
    {
        var r = FurnaceProcess.Run("eval", "-p", FakecapResults, "-r", Fakecap, option, value);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--plot and --plot-size go with --compare", r.Stderr);
    }

    [Fact]
    public void Compare_NotAReport_NamesTheFile()
    {
        var r = FurnaceProcess.Run("eval", "--compare", FakecapResults);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"furnace: error: {FakecapResults}: not an eval report (expected the JSON object that furnace eval --out writes)", r.Stderr.Trim());
    }

    // Cells of a markdown row; "\|" inside a cell is an escaped bar, not a separator.
    private static string[] Cells(string row) =>
        row.Trim('|').Replace("\\|", "\u0001", StringComparison.Ordinal).Split('|')
            .Select(c => c.Trim().Replace("\u0001", "\\|", StringComparison.Ordinal)).ToArray();
}
