// `furnace data build openclipart`: the Open Clip Art Library snapshot Debian ships (openclipart-svg
// 1:0.18+dfsg-19, public domain): ~7,500 SVGs under usr/share/openclipart/svg/CATEGORY/…, each carrying its own
// metadata in the SVG's <metadata> RDF block: dc:title (the title), dc:subject's rdf:Bag (keywords) and dc:creator.
// Titles that name a collection rather than the picture ("Part of the Flat Icon Collection", "Lemon SVG theme",
// "Clipart by …") are dropped; the keywords then carry the caption, and a file with neither is left out. Symlinked
// duplicates are skipped. English only.
using System.Net;
using System.Text.RegularExpressions;

namespace Furnace.Data.Builders;

public sealed partial class OpenClipartBuilder : ObjectDatasetBuilder
{
    public const string Package = "openclipart-svg";
    public const string Version = "1:0.18+dfsg-19";

    private static readonly HashSet<string> NoiseKeywords = new(StringComparer.OrdinalIgnoreCase)
    {
        "hash", "unsorted", "icon", "icons", "theme", "clip art", "clipart", "svg", "image", "media", "public domain", "signs_and_symbols",
    };

    public override string Name => "openclipart";

    public override string Description => "Open Clip Art Library (Debian openclipart-svg, public domain): ~7,500 SVGs with titles and keywords (EN only)";

    public override SourceDataset Collect(PackageCache cache) => Collect(cache.Debian(Package, Version));

    public static SourceDataset Collect(string root)
    {
        string svgRoot = Path.Combine(root, "usr", "share", "openclipart", "svg");
        if (!Directory.Exists(svgRoot)) svgRoot = root;
        var files = Directory.GetFiles(svgRoot, "*.svg", SearchOption.AllDirectories);
        Array.Sort(files, StringComparer.Ordinal);
        var items = new List<SourceImage>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (string file in files)
        {
            if (new FileInfo(file).LinkTarget is not null) continue;
            var (title, keywords, creator) = ReadMetadata(File.ReadAllText(file));
            var captions = Captions(title, keywords);
            if (captions.Count == 0) continue;
            string id = SafeId(Path.GetRelativePath(svgRoot, file)[..^4].Replace(Path.DirectorySeparatorChar, '_'));
            for (int k = 2; !ids.Add(id); k++) id = $"{id}_{k}";
            items.Add(new SourceImage(id, file, captions, null, creator));
        }
        string copyright = Path.Combine(root, "usr", "share", "doc", Package, "copyright");
        return new SourceDataset("openclipart", $"Debian {Package} {Version}", "public domain (CC0-like dedication)",
            File.Exists(copyright) ? File.ReadAllText(copyright) : "Public domain dedication (see Debian's copyright file of openclipart-svg).",
            [
                $"Images: Open Clip Art Library 0.18, Debian package {Package} {Version}, dedicated to the public domain by their authors " +
                "(credited below as a courtesy).",
                "Captions: each SVG's own dc:title and dc:subject keywords.",
            ],
            items);
    }

    /// <summary>English captions from a title and keywords; empty when neither says anything about the picture.</summary>
    public static IReadOnlyList<string> Captions(string? title, IReadOnlyList<string> keywords)
    {
        var captions = new List<string>(3);
        string? t = CleanTitle(title);
        if (t is not null)
        {
            string lower = t.Length > 1 && char.IsUpper(t[0]) && !char.IsUpper(t[1]) ? char.ToLowerInvariant(t[0]) + t[1..] : t;
            captions.Add($"clip art of {lower}");
            captions.Add($"a clip art drawing titled \"{t}\"");
        }
        var kw = keywords.Select(k => k.Replace('_', ' ').Trim()).Where(k => k.Length > 1 && !NoiseKeywords.Contains(k))
            .Distinct(StringComparer.OrdinalIgnoreCase).Take(4).ToList();
        if (kw.Count > 0) captions.Add($"clip art tagged {JoinAnd(kw)}");
        return captions;
    }

    public static string? CleanTitle(string? title)
    {
        if (string.IsNullOrWhiteSpace(title)) return null;
        string t = Spaces().Replace(title.Replace('_', ' '), " ").Trim();
        if (!t.Contains(' ', StringComparison.Ordinal) && t.Contains('-', StringComparison.Ordinal)) t = t.Replace('-', ' '); // slug "arrow-up-yellow"
        if (t.Length < 2 || BoilerplateTitle().IsMatch(t) || !t.Any(char.IsLetter)) return null;
        return t;
    }

    /// <summary>(title, keywords, creator) from the cc:Work of an SVG's RDF metadata; nulls/empty when absent.</summary>
    public static (string? Title, IReadOnlyList<string> Keywords, string? Creator) ReadMetadata(string svg)
    {
        var work = WorkBlock().Match(svg);
        if (!work.Success) return (null, [], null);
        string block = work.Groups[1].Value;
        // The work's own title comes before the publisher/creator agents (which have dc:titles of their own).
        string head = AgentBlocks().Replace(block, "");
        string? title = Decode(DcTitle().Match(head) is { Success: true } m ? m.Groups[1].Value : null);
        var keywords = SubjectBag().Match(block) is { Success: true } bag
            ? ListItem().Matches(bag.Groups[1].Value).Select(x => Decode(x.Groups[1].Value) ?? "").Where(x => x.Length > 0).ToList()
            : [];
        string? creator = CreatorBlock().Match(block) is { Success: true } c && DcTitle().Match(c.Groups[1].Value) is { Success: true } ct
            ? Decode(ct.Groups[1].Value)
            : null;
        return (title, keywords, creator);
    }

    private static string? Decode(string? s)
    {
        if (s is null) return null;
        string d = Spaces().Replace(WebUtility.HtmlDecode(s), " ").Trim();
        return d.Length == 0 ? null : d;
    }

    [GeneratedRegex(@"<cc:Work\b[^>]*>(.*?)</cc:Work>", RegexOptions.Singleline)]
    private static partial Regex WorkBlock();

    [GeneratedRegex(@"<dc:(publisher|creator|rights|contributor)\b.*?</dc:\1>", RegexOptions.Singleline)]
    private static partial Regex AgentBlocks();

    [GeneratedRegex(@"<dc:creator\b[^>]*>(.*?)</dc:creator>", RegexOptions.Singleline)]
    private static partial Regex CreatorBlock();

    [GeneratedRegex(@"<dc:title\b[^>]*>(.*?)</dc:title>", RegexOptions.Singleline)]
    private static partial Regex DcTitle();

    [GeneratedRegex(@"<dc:subject\b[^>]*>(.*?)</dc:subject>", RegexOptions.Singleline)]
    private static partial Regex SubjectBag();

    [GeneratedRegex(@"<rdf:li\b[^>]*>(.*?)</rdf:li>", RegexOptions.Singleline)]
    private static partial Regex ListItem();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Spaces();

    [GeneratedRegex(@"(?i)(collection|\btheme\b|clip ?art by|\bpart of\b|untitled|^(image|drawing|layer|svg|new document|path)\s*\d*$|\.(svg|png)$|symbol signs)")]
    private static partial Regex BoilerplateTitle();
}
