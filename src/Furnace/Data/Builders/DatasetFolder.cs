// The output folder of a build: staged in OUT.tmp and renamed to OUT only when complete (a failed or interrupted
// build leaves no half dataset under the real name), with the JSONL caption files, LICENSE, ATTRIBUTION.md and
// dataset.json written the same way by every builder.
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Furnace.Data.Builders;

public static class DatasetFolder
{
    /// <summary>One JSONL line: id, image path relative to the folder, English and (optional) Chinese captions.</summary>
    public sealed record Line(string Id, string Image, IReadOnlyList<string> Captions, IReadOnlyList<string>? CaptionsZh);

    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Creates an empty OUT.tmp (with images/) and returns it; OUT itself must not exist unless force.</summary>
    public static string Begin(string outDir, bool force)
    {
        string full = Path.GetFullPath(outDir);
        if (!force && (Directory.Exists(full) || File.Exists(full)))
            throw new FurnaceException($"{outDir} already exists (remove it, choose another --out, or pass --force)");
        string parent = Path.GetDirectoryName(full) ?? throw new FurnaceException($"{outDir}: not a folder path");
        Directory.CreateDirectory(parent);
        string staging = full + ".tmp";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        Directory.CreateDirectory(Path.Combine(staging, "images"));
        return staging;
    }

    /// <summary>Renames OUT.tmp to OUT (replacing an old OUT when forced).</summary>
    public static void Commit(string staging, string outDir, bool force)
    {
        string full = Path.GetFullPath(outDir);
        string? old = null;
        if (Directory.Exists(full))
        {
            if (!force) throw new FurnaceException($"{outDir} appeared while building; the new dataset is left in {staging}");
            old = full + ".old-" + Guid.NewGuid().ToString("N")[..8];
            Directory.Move(full, old);
        }
        Directory.Move(staging, full);
        if (old is not null) Directory.Delete(old, recursive: true);
    }

    public static void WriteJsonl(string path, IEnumerable<Line> lines)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var newline = "\n"u8.ToArray();
        foreach (var line in lines)
        {
            using (var w = new Utf8JsonWriter(fs, WriterOptions))
            {
                w.WriteStartObject();
                w.WriteString("id", line.Id);
                w.WriteString("image", line.Image);
                w.WriteStartArray("captions");
                foreach (string c in line.Captions) w.WriteStringValue(c);
                w.WriteEndArray();
                if (line.CaptionsZh is { Count: > 0 } zh)
                {
                    w.WriteStartArray("captions_zh");
                    foreach (string c in zh) w.WriteStringValue(c);
                    w.WriteEndArray();
                }
                w.WriteEndObject();
            }
            fs.Write(newline);
        }
    }

    /// <summary>LICENSE: which licence covers the images (and the caption sources), then the package's own licence text.</summary>
    public static void WriteLicense(string staging, string summary, string licenseText) =>
        File.WriteAllText(Path.Combine(staging, "LICENSE"), summary.TrimEnd() + "\n\n" + new string('-', 72) + "\n\n" + licenseText.TrimEnd() + "\n");

    /// <summary>ATTRIBUTION.md: the notes as a list, then one row per credited image.</summary>
    public static void WriteAttribution(string staging, string title, IEnumerable<string> notes, IEnumerable<(string Image, string Credit)> credits)
    {
        using var w = new StreamWriter(Path.Combine(staging, "ATTRIBUTION.md"));
        w.WriteLine($"# {title}");
        w.WriteLine();
        foreach (string note in notes) w.WriteLine($"- {note}");
        var rows = credits.ToList();
        if (rows.Count == 0) return;
        w.WriteLine();
        w.WriteLine("| image | author |");
        w.WriteLine("|---|---|");
        foreach (var (image, credit) in rows) w.WriteLine($"| {image} | {credit.Replace("|", "\\|", StringComparison.Ordinal)} |");
    }

    /// <summary>dataset.json: what was built, from what, under which licence, and the counts.</summary>
    public static void WriteManifest(string staging, DatasetBuildReport report, string package, string license, int size, Action<Utf8JsonWriter>? extra = null)
    {
        using var fs = File.Create(Path.Combine(staging, "dataset.json"));
        using var w = new Utf8JsonWriter(fs, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        w.WriteStartObject();
        w.WriteString("name", report.Name);
        w.WriteString("source", package);
        w.WriteString("license", license);
        w.WriteNumber("image_size", size);
        w.WriteNumber("images", report.Images);
        w.WriteNumber("images_with_chinese", report.WithChinese);
        w.WriteNumber("skipped", report.Skipped);
        w.WriteStartObject("splits");
        foreach (var (split, (file, count)) in report.Splits)
        {
            w.WriteStartObject(split);
            w.WriteString("file", file);
            w.WriteNumber("images", count);
            w.WriteEndObject();
        }
        w.WriteEndObject();
        extra?.Invoke(w);
        w.WriteEndObject();
    }

    /// <summary>At most <paramref name="limit"/> items spread evenly over the list (all when limit is null or large).</summary>
    public static IReadOnlyList<T> Spread<T>(IReadOnlyList<T> items, int? limit)
    {
        if (limit is not int n || n >= items.Count) return items;
        if (n <= 0) throw new FurnaceException($"--limit {n} must be at least 1");
        var picked = new T[n];
        for (int i = 0; i < n; i++) picked[i] = items[(int)((long)i * items.Count / n)];
        return picked;
    }
}
