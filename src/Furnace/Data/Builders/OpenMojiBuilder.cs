// `furnace data build openmoji`: the OpenMoji emoji set (npm openmoji 17.0.0, CC BY-SA 4.0): colour SVGs named by
// code points, with data/openmoji.json giving each one's CLDR annotation, tags and author. Chinese captions from
// CLDR's Chinese names (npm emojibase-data). The skin-tone swatches of group "component" are left out.
using System.Text.Json;

namespace Furnace.Data.Builders;

public sealed class OpenMojiBuilder : ObjectDatasetBuilder
{
    public const string Package = "openmoji";
    public const string Version = "17.0.0";

    public override string Name => "openmoji";

    public override string Description => "OpenMoji emoji (npm openmoji, CC BY-SA 4.0): ~4,500 colour SVGs with CLDR names, Chinese from CLDR";

    /// <summary>One OpenMoji entry as data/openmoji.json has it.</summary>
    public sealed record Entry(string Hexcode, string Annotation, string Group, string Subgroup, IReadOnlyList<string> Tags, string Author, string SvgPath);

    public override SourceDataset Collect(PackageCache cache) => Collect(cache.Npm(Package, Version), EmojiNames.Load(cache));

    public static SourceDataset Collect(string packageDir, EmojiNames names)
    {
        var items = new List<SourceImage>();
        foreach (var e in ReadEntries(packageDir))
        {
            if (e.Group == "component") continue;
            string en = e.Annotation;
            items.Add(new SourceImage(ObjectDatasetBuilder.SafeId(e.Hexcode), e.SvgPath, EmojiCaptions.English(en, e.Tags),
                EmojiCaptions.Chinese(names.Chinese(e.Hexcode)), e.Author.Length > 0 ? e.Author : null));
        }
        return new SourceDataset("openmoji", $"npm {Package}@{Version}", "CC-BY-SA-4.0",
            ReadLicense(packageDir, "LICENSE.txt", "LICENSE"),
            [
                $"Images: OpenMoji {Version} (npm {Package}), https://openmoji.org, licensed CC BY-SA 4.0; each image's author is credited below. " +
                "Derived images (this dataset) are shared under the same licence.",
                "English names and tags: the CLDR annotations and tags in openmoji's data/openmoji.json.",
                $"Chinese names: Unicode CLDR annotations (Unicode License v3) as shipped by npm {EmojiNames.Package}@{EmojiNames.Version} (MIT).",
            ],
            items);
    }

    /// <summary>The entries of data/openmoji.json whose SVG exists, in file order.</summary>
    public static IReadOnlyList<Entry> ReadEntries(string packageDir)
    {
        string json = Path.Combine(packageDir, "data", "openmoji.json");
        if (!File.Exists(json)) throw new FurnaceException($"{json}: missing (is this the npm openmoji package?)");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
        var entries = new List<Entry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            string hex = Str(e, "hexcode"), annotation = Str(e, "annotation");
            if (hex.Length == 0 || annotation.Length == 0 || !seen.Add(hex)) continue;
            string svg = Path.Combine(packageDir, "color", "svg", hex + ".svg");
            if (!File.Exists(svg)) continue;
            var tags = (Str(e, "tags") + "," + Str(e, "openmoji_tags")).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Distinct(StringComparer.OrdinalIgnoreCase).ToArray();
            entries.Add(new Entry(hex, annotation, Str(e, "group"), Str(e, "subgroups"), tags, Str(e, "openmoji_author"), svg));
        }
        return entries;
    }

    private static string Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? (v.GetString() ?? "").Trim() : "";
}
