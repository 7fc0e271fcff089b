// `furnace data build NAME --out DIR`: builds a captioned image dataset from a freely licensed source that a package
// manager serves (npm, Debian), or the compositional scenes from them (Furnace.Data.Builders). Progress on stderr,
// a summary on stdout (or JSON with --json).
using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Furnace.Data.Builders;

namespace Furnace.Cli.Commands;

internal static class DataBuildCommand
{
    private static readonly string Help = $$"""
        Build a captioned image dataset from freely licensed images that a package manager serves: download the
        package (npm pack / apt-get download, cached), rasterise every image (SVG with librsvg's rsvg-convert) onto a
        white square of --size pixels, and write DIR/captions.jsonl ({"id", "image", "captions", "captions_zh"?} per
        line), DIR/images/*.png, LICENSE, ATTRIBUTION.md and dataset.json. The folder is built in DIR.tmp and renamed
        when complete. Chinese captions ("captions_zh") are written only where the sources have a real Chinese name.

        Sources:
        {{string.Join("\n", DatasetBuilders.All.Select(b => $"  {b.Name,-13}{b.Description}"))}}

        scenes composes 1–4 emoji objects (OpenMoji and Noto, from the same packages) on varied backgrounds with
        captions that say what, how many and where; combinations held out for evaluation go to eval.jsonl
        (--limit = number of training scenes, default 10000; eval gets a tenth as many; --objects N keeps N of the
        545 countable objects, common ones such as dog, bus and pizza first, so each is seen more often).

        Examples:
          furnace data build openmoji --out data/openmoji
          furnace data build flags --out data/flags --size 256
          furnace data build tuxpaint --out /tmp/tux --limit 50
          furnace data build scenes --out data/scenes --limit 20000 --seed 7
          furnace data build scenes --out data/scenes --objects 100
        """;

    public static Command Create()
    {
        var name = new Argument<string>("name") { Description = $"Dataset: {string.Join(", ", DatasetBuilders.All.Select(b => b.Name))}" };
        var output = new Option<string>("--out", "-o") { Description = "Output folder (must not exist unless --force)", Required = true };
        var size = new Option<int>("--size") { Description = "Side of the square images in pixels", DefaultValueFactory = _ => 224 };
        var limit = new Option<int?>("--limit") { Description = "At most N images, spread over the source (scenes: N training scenes)" };
        var cache = new Option<string>("--cache") { Description = $"Package cache folder (default {PackageCache.DefaultRoot})" };
        var force = new Option<bool>("--force") { Description = "Replace an existing output folder" };
        var seed = new Option<int>("--seed") { Description = "Random seed (scenes)", DefaultValueFactory = _ => 1 };
        var objects = new Option<int?>("--objects") { Description = "scenes: at most N objects, common ones first (default: all 545 countable emoji)" };
        var threads = Cli.ThreadsOption();
        var json = new Option<bool>("--json") { Description = "Print the summary as JSON" };
        var dryRun = new Option<bool>("--dry-run") { Description = "Download and count only: how many images (and with Chinese captions) would be built (scenes: objects)" };
        var cmd = new Command("build", Help) { name, output, size, limit, cache, force, seed, objects, threads, json, dryRun };
        cmd.SetAction(r => Cli.Run(() =>
        {
            var builder = DatasetBuilders.Get(r.GetValue(name)!);
            if (r.GetValue(objects) is int o)
            {
                if (builder.Name != "scenes") throw new FurnaceException($"--objects applies to scenes only, not {builder.Name}");
                if (o < 2) throw new FurnaceException($"--objects {o} must be at least 2");
            }
            var packages = new PackageCache(r.GetValue(cache) ?? PackageCache.DefaultRoot, ProgressLine.Message);
            ProgressLine? progress = null;
            var request = new DatasetBuildRequest(r.GetValue(output)!, packages, r.GetValue(size), r.GetValue(limit), r.GetValue(force), r.GetValue(seed))
            {
                Log = ProgressLine.Message,
                Progress = (done, total) => (progress ??= new ProgressLine(total, 0, "images")).Report(done),
                Threads = Cli.CheckThreads(r.GetValue(threads)),
                DryRun = r.GetValue(dryRun),
                Objects = r.GetValue(objects),
            };
            var clock = Stopwatch.StartNew();
            var report = builder.Build(request);
            double seconds = clock.Elapsed.TotalSeconds;
            if (r.GetValue(json))
            {
                var summary = new Dictionary<string, object>
                {
                    ["name"] = report.Name,
                    ["out"] = report.OutDir,
                    ["images"] = report.Images,
                    ["images_with_chinese"] = report.WithChinese,
                    ["skipped"] = report.Skipped,
                    ["splits"] = report.Splits.ToDictionary(s => s.Key, s => (object)new Dictionary<string, object> { ["file"] = s.Value.File, ["images"] = s.Value.Count }),
                    ["seconds"] = Math.Round(seconds, 1),
                    ["dry_run"] = request.DryRun,
                };
                Console.WriteLine(JsonSerializer.Serialize(summary, Cli.Json));
            }
            else if (request.DryRun)
            {
                string what = report.Name == "scenes" ? "countable objects" : "images";
                Console.WriteLine($"{report.Name}: would build {report.Images} {what} ({report.WithChinese} with Chinese names){(r.GetValue(limit) is int l ? $" (--limit {l})" : "")}");
            }
            else
            {
                Console.WriteLine($"{report.Name}: wrote {report.Images} images to {report.OutDir} ({report.WithChinese} with Chinese captions, {report.Skipped} skipped) in {seconds:F0} s");
                foreach (var (split, (file, count)) in report.Splits) Console.WriteLine($"  {split}: {file} ({count} images)");
            }
            return 0;
        }));
        return cmd;
    }
}
