// `furnace data build mdi`: Material Design Icons (npm @mdi/svg 7.4.47, Apache-2.0): 7,447 black 24×24 SVG icons
// with meta.json giving each icon's name, aliases, category tags and author. Captions come from the name
// ("account-circle" → "an account circle icon") and the category; English only (the package has no Chinese).
using System.Text.Json;

namespace Furnace.Data.Builders;

public sealed class MdiBuilder : ObjectDatasetBuilder
{
    public const string Package = "@mdi/svg";
    public const string Version = "7.4.47";

    public override string Name => "mdi";

    public override string Description => "Material Design Icons (npm @mdi/svg, Apache-2.0): 7,447 SVG icons with names and category tags (EN only)";

    public override SourceDataset Collect(PackageCache cache) => Collect(cache.Npm(Package, Version));

    public static SourceDataset Collect(string packageDir)
    {
        string json = Path.Combine(packageDir, "meta.json");
        if (!File.Exists(json)) throw new FurnaceException($"{json}: missing (is this the npm @mdi/svg package?)");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
        var items = new List<SourceImage>();
        foreach (var icon in doc.RootElement.EnumerateArray())
        {
            string name = icon.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";
            if (name.Length == 0) continue;
            string svg = Path.Combine(packageDir, "svg", name + ".svg");
            if (!File.Exists(svg)) continue;
            string words = name.Replace('-', ' ');
            string a = Article(words);
            var captions = new List<string> { $"{a} {words} icon", $"a black {words} icon from Material Design Icons" };
            var tags = icon.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Array
                ? t.EnumerateArray().Select(x => (x.GetString() ?? "").Trim()).Where(x => x.Length > 0).ToList()
                : [];
            if (tags.Count > 0) captions.Add($"{a} {words} icon, in the {tags[0].ToLowerInvariant()} category");
            string? author = icon.TryGetProperty("author", out var au) ? au.GetString() : null;
            items.Add(new SourceImage(SafeId(name), svg, captions, null, string.IsNullOrWhiteSpace(author) ? null : author.Trim()));
        }
        return new SourceDataset("mdi", $"npm {Package}@{Version}", "Apache-2.0", ReadLicense(packageDir, "LICENSE"),
            [
                $"Images: Material Design Icons {Version} (npm {Package}), https://pictogrammers.com, Apache-2.0; authors per icon below.",
                "Captions: built from each icon's name and first category tag in the package's meta.json.",
            ],
            items);
    }
}
