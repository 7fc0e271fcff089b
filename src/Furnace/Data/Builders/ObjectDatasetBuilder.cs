// The shared half of the one-object-per-image builders (openmoji, emoji-google, mdi, flags, tuxpaint,
// openclipart): a subclass lists the package's images with their captions (Collect); this renders each onto a
// white square of --size pixels in parallel, skips (and counts) the few that cannot be rasterised, and writes
// captions.jsonl, LICENSE, ATTRIBUTION.md and dataset.json.
using SkiaSharp;

namespace Furnace.Data.Builders;

public abstract class ObjectDatasetBuilder : IDatasetBuilder
{
    public abstract string Name { get; }

    public abstract string Description { get; }

    /// <summary>Draw a thin grey frame round each image (flags, whose white parts would merge into the ground).</summary>
    protected virtual bool Outline => false;

    /// <summary>The package's images and captions, in a stable order; downloads through the cache when needed.</summary>
    public abstract SourceDataset Collect(PackageCache cache);

    public DatasetBuildReport Build(DatasetBuildRequest request)
    {
        if (request.Size is < 16 or > 4096) throw new FurnaceException($"--size {request.Size} must be between 16 and 4096");
        var source = Collect(request.Cache);
        if (source.Items.Count == 0) throw new FurnaceException($"{Name}: the package yielded no images");
        var items = DatasetFolder.Spread(source.Items, request.Limit);
        if (request.DryRun)
        {
            return new DatasetBuildReport(Name, Path.GetFullPath(request.OutDir), items.Count, items.Count(s => s.CaptionsZh is { Count: > 0 }), 0,
                new Dictionary<string, (string, int)> { ["train"] = ("captions.jsonl", items.Count) });
        }
        request.Log($"{Name}: {source.Items.Count} images in {source.Package}; rendering {items.Count} at {request.Size}×{request.Size}");

        string staging = DatasetFolder.Begin(request.OutDir, request.Force);
        var rasterizer = new ImageRasterizer(request.Cache);
        var ok = new bool[items.Count];
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        int done = 0;
        var progressGate = new object();
        Parallel.For(0, items.Count, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, request.Threads) }, i =>
        {
            var item = items[i];
            try
            {
                using var obj = rasterizer.Load(item.Path, request.Size);
                using var square = ImageRasterizer.Square(obj, request.Size, SKColors.White, outline: Outline);
                File.WriteAllBytes(Path.Combine(staging, "images", item.Id + ".png"), ImageRasterizer.OpaquePng(square));
                ok[i] = true;
            }
            catch (FurnaceException e)
            {
                failures.Add(e.Message);
            }
            int n = Interlocked.Increment(ref done);
            lock (progressGate) request.Progress(n, items.Count);
        });
        foreach (string f in failures.Order(StringComparer.Ordinal).Take(5)) request.Log($"skipped {f}");
        if (failures.Count > 5) request.Log($"... and {failures.Count - 5} more skipped");

        var written = items.Where((_, i) => ok[i]).ToList();
        if (written.Count == 0) throw new FurnaceException($"{Name}: no image could be rasterised (first failure: {failures.FirstOrDefault()})");
        DatasetFolder.WriteJsonl(Path.Combine(staging, "captions.jsonl"),
            written.Select(s => new DatasetFolder.Line(s.Id, $"images/{s.Id}.png", s.Captions, s.CaptionsZh)));
        DatasetFolder.WriteLicense(staging,
            $"The images in images/ are rendered from {source.Package} and are licensed under {source.License}.\n" +
            "Captions are built from the names and annotations shipped with the packages listed in ATTRIBUTION.md.\n" +
            "The licence text of the image package follows.", source.LicenseText);
        DatasetFolder.WriteAttribution(staging, $"{source.Name}: sources and credits", source.Notes,
            written.Where(s => s.Credit is not null).Select(s => ($"images/{s.Id}.png", s.Credit!)));
        var report = new DatasetBuildReport(Name, Path.GetFullPath(request.OutDir), written.Count, written.Count(s => s.CaptionsZh is { Count: > 0 }),
            failures.Count, new Dictionary<string, (string, int)> { ["train"] = ("captions.jsonl", written.Count) });
        DatasetFolder.WriteManifest(staging, report, source.Package, source.License, request.Size);
        DatasetFolder.Commit(staging, request.OutDir, request.Force);
        return report;
    }

    /// <summary>"a"/"an" by the first letter's sound (vowel letters; good enough for the English names used here).</summary>
    public static string Article(string word) =>
        word.Length > 0 && "aeiouAEIOU".Contains(word[0], StringComparison.Ordinal) && !word.StartsWith("uni", StringComparison.OrdinalIgnoreCase)
            && !word.StartsWith("use", StringComparison.OrdinalIgnoreCase) && !word.StartsWith("one", StringComparison.OrdinalIgnoreCase)
            ? "an" : "a";

    /// <summary>"a, b and c".</summary>
    public static string JoinAnd(IReadOnlyList<string> words) => words.Count switch
    {
        0 => "",
        1 => words[0],
        _ => string.Join(", ", words.Take(words.Count - 1)) + " and " + words[^1],
    };

    /// <summary>Text of a license file in the package (first that exists), or a pointer when none is shipped.</summary>
    public static string ReadLicense(string packageDir, params string[] names)
    {
        foreach (string name in names)
        {
            string path = Path.Combine(packageDir, name);
            if (File.Exists(path)) return File.ReadAllText(path);
        }
        return $"(no licence file in {packageDir}; see the package's metadata)";
    }

    /// <summary>A file-name-safe id: lowercase letters, digits, '-' and '_' (others become '_').</summary>
    public static string SafeId(string s)
    {
        var chars = s.ToLowerInvariant().Select(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' ? c : '_').ToArray();
        return new string(chars);
    }
}
