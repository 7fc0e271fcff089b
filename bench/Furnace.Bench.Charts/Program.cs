// Ratio charts of the side-by-side benchmarks: reads the JSON lines the harnesses keep (one line per engine
// process: "bench", "engine", the cell's settings, and throughput figures with their per-rep lists "<figure>_reps")
// and draws, per benchmark and figure, one horizontal bar per cell and peer: Furnace's median ÷ the peer's median,
// with a line at 1.0× (right of it Furnace is faster). Figures charted: those ending in "_per_s" or "_tok_s" (higher
// is better) that both engines of a cell report. The median is over every timed rep of every process of an engine
// (DESIGN.md's method), or the line's own figure when it carries no per-rep list.
//   Furnace.Bench.Charts [--out docs/images] FILE.jsonl…
// writes OUT/<bench>-<figure>.png for each benchmark and figure found, and prints what it wrote.
using System.Globalization;
using System.Text.Json;
using Furnace.IO;
using ScottPlot;

string outDir = "docs/images";
var files = new List<string>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--out" && i + 1 < args.Length) outDir = args[++i];
    else files.Add(args[i]);
}
if (files.Count == 0)
{
    Console.Error.WriteLine("usage: Furnace.Bench.Charts [--out DIR] FILE.jsonl…");
    return 2;
}
Directory.CreateDirectory(outDir);

// the settings that name a cell (those both engines' lines carry); engine, round and measurements are not among them
string[] cellKeys = ["shape", "type", "workload", "mode", "precision", "batch", "seq", "threads"];
var lines = new List<JsonElement>();
foreach (string file in files)
    foreach (string line in File.ReadLines(file))
        if (line.TrimStart().StartsWith('{'))
            lines.Add(JsonDocument.Parse(line).RootElement.Clone());

foreach (var bench in lines.GroupBy(l => Text(l, "bench") ?? "bench"))
{
    // a cell's label holds the settings that vary between its cells; the ones all share go in the title
    string[] varying = cellKeys.Where(k => bench.Select(l => Text(l, k)).Distinct().Count() > 1).ToArray();
    string shared = string.Join(", ", cellKeys.Except(varying).Select(k => Text(bench.First(), k) is string v ? $"{k} {v}" : null).OfType<string>());
    var cells = bench.GroupBy(l => string.Join(" ", varying.Select(k => Text(l, k)).OfType<string>())).ToList();
    string[] figures = bench.SelectMany(l => l.EnumerateObject().Select(p => p.Name))
        .Where(n => (n.EndsWith("_per_s", StringComparison.Ordinal) || n.EndsWith("_tok_s", StringComparison.Ordinal)))
        .Distinct().Order(StringComparer.Ordinal).ToArray();
    foreach (string figure in figures)
    {
        var bars = new List<(string Label, string Peer, double Ratio)>();
        foreach (var cell in cells)
        {
            var engines = cell.GroupBy(l => Text(l, "engine") ?? "?").ToDictionary(g => g.Key, g => Median(g, figure));
            if (!engines.TryGetValue("furnace", out double ours) || !double.IsFinite(ours)) continue;
            foreach (var (peer, theirs) in engines)
                if (peer != "furnace" && double.IsFinite(theirs) && theirs > 0)
                    bars.Add((cell.Key, peer, ours / theirs));
        }
        if (bars.Count == 0) continue;
        string path = Path.Combine(outDir, $"{bench.Key}-{figure.Replace('_', '-')}.png");
        var (plot, height) = Chart(bench.Key + (shared.Length > 0 ? $" ({shared})" : ""), figure, bars);
        ChartPng.Write(plot, path, 900, height);
        Console.WriteLine($"wrote {path} ({bars.Count} bars)");
    }
}
return 0;

static string? Text(JsonElement e, string key) => e.TryGetProperty(key, out var v) ? v.ValueKind switch
{
    JsonValueKind.String => v.GetString(),
    JsonValueKind.Number => v.GetRawText(),
    _ => null,
} : null;

// the upper median over every rep of every line (the harnesses' ChildJson.Median), else over the lines' own figures
static double Median(IEnumerable<JsonElement> runs, string figure)
{
    double[] v = runs.SelectMany(r => r.TryGetProperty(figure + "_reps", out var reps) && reps.ValueKind == JsonValueKind.Array
            ? reps.EnumerateArray().Select(e => e.GetDouble())
            : r.TryGetProperty(figure, out var f) && f.ValueKind == JsonValueKind.Number ? [f.GetDouble()] : [])
        .Order().ToArray();
    return v.Length == 0 ? double.NaN : v[v.Length / 2];
}

static (Plot, int) Chart(string bench, string figure, List<(string Label, string Peer, double Ratio)> bars)
{
    Plot plot = ChartPng.NewPlot();
    string what = figure.EndsWith("_tok_s", StringComparison.Ordinal) ? figure[..^6].Replace('_', ' ') + " tokens/s"
        : figure[..^6].Replace('_', ' ') + "/s";
    plot.Title($"{bench}: {what}, Furnace ÷ peer");
    var palette = new ScottPlot.Palettes.Category10();
    string[] peers = bars.Select(b => b.Peer).Distinct().ToArray();
    var ticks = new List<Tick>();
    for (int i = 0; i < bars.Count; i++)
    {
        var (label, peer, ratio) = bars[i];
        double y = bars.Count - 1 - i; // first cell on top
        var color = palette.GetColor(Array.IndexOf(peers, peer));
        var bar = plot.Add.Bar(new Bar { Position = y, Value = ratio, ValueBase = 0, FillColor = color, Orientation = Orientation.Horizontal, Size = 0.7 });
        var text = plot.Add.Text(ratio.ToString("0.00", CultureInfo.InvariantCulture) + "×", ratio, y);
        text.LabelFontSize = 12;
        text.LabelAlignment = Alignment.MiddleLeft;
        text.OffsetX = 4;
        ticks.Add(new Tick(y, peers.Length > 1 ? $"{label} vs {peer}" : label));
    }
    var one = plot.Add.VerticalLine(1.0, 2, Colors.Black);
    one.LinePattern = LinePattern.Dashed;
    plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.ToArray());
    plot.Axes.Left.MajorTickStyle.Length = 0;
    plot.XLabel($"Furnace ÷ {string.Join(", ", peers)} (right of 1.0×: Furnace is faster)");
    plot.Axes.SetLimits(0, Math.Max(1.2, bars.Max(b => b.Ratio) * 1.15), -0.6, bars.Count - 0.4);
    plot.Grid.YAxisStyle.MajorLineStyle.Width = 0;
    return (plot, 110 + 34 * bars.Count);
}
