// `furnace data build emoji-google`: Google's Noto emoji as 64×64 PNGs (npm emoji-datasource-google 16.0.0; the
// images are Apache-2.0, the package MIT). emoji.json lists each image with its code points (skin-tone variants
// under skin_variations); the names and tags are CLDR's from npm emojibase-data (English and Chinese), falling back
// to emoji.json's own name. 64 px images are enlarged to --size with a cubic filter.
using System.Text.Json;

namespace Furnace.Data.Builders;

public sealed class EmojiGoogleBuilder : ObjectDatasetBuilder
{
    public const string Package = "emoji-datasource-google";
    public const string Version = "16.0.0";

    public override string Name => "emoji-google";

    public override string Description => "Noto emoji from Google (npm emoji-datasource-google, Apache-2.0): ~3,800 64px PNGs, CLDR names EN/ZH";

    public override SourceDataset Collect(PackageCache cache) => Collect(cache.Npm(Package, Version), EmojiNames.Load(cache));

    /// <summary>(hexcode, PNG path, emoji.json name or null) of every image the package has, in file order.</summary>
    public static IReadOnlyList<(string Hex, string Png, string? Name)> ReadEntries(string packageDir)
    {
        string json = Path.Combine(packageDir, "emoji.json");
        if (!File.Exists(json)) throw new FurnaceException($"{json}: missing (is this the npm emoji-datasource-google package?)");
        string imgDir = Path.Combine(packageDir, "img", "google", "64");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
        var list = new List<(string, string, string?)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Add(JsonElement e, string? name)
        {
            if (e.TryGetProperty("has_img_google", out var has) && has.ValueKind == JsonValueKind.False) return;
            string? hex = e.TryGetProperty("unified", out var u) ? u.GetString() : null;
            string? image = e.TryGetProperty("image", out var im) ? im.GetString() : null;
            if (string.IsNullOrEmpty(hex) || string.IsNullOrEmpty(image) || !seen.Add(hex)) return;
            string png = Path.Combine(imgDir, image);
            if (File.Exists(png)) list.Add((hex, png, name));
        }
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            string? name = e.TryGetProperty("name", out var n) ? n.GetString() : null;
            Add(e, name);
            if (e.TryGetProperty("skin_variations", out var skins) && skins.ValueKind == JsonValueKind.Object)
            {
                foreach (var s in skins.EnumerateObject()) Add(s.Value, null);
            }
        }
        return list;
    }

    public static SourceDataset Collect(string packageDir, EmojiNames names)
    {
        var items = new List<SourceImage>();
        foreach (var (hex, png, fallback) in ReadEntries(packageDir))
        {
            string? en = names.English(hex) ?? fallback?.ToLowerInvariant();
            if (string.IsNullOrWhiteSpace(en)) continue;
            items.Add(new SourceImage(ObjectDatasetBuilder.SafeId(hex), png, EmojiCaptions.English(en, names.Tags(hex)),
                EmojiCaptions.Chinese(names.Chinese(hex))));
        }
        return new SourceDataset("emoji-google", $"npm {Package}@{Version}", "Apache-2.0",
            "The Noto emoji images (img/google/) are licensed under the Apache License, Version 2.0\n" +
            "(https://www.apache.org/licenses/LICENSE-2.0), as the package's README states.\n" +
            "The package itself (emoji.json, code) is under this licence:\n\n" + ReadLicense(packageDir, "LICENSE"),
            [
                $"Images: Noto Color Emoji by Google, from npm {Package}@{Version} (img/google/64), Apache-2.0.",
                $"English and Chinese names and tags: Unicode CLDR annotations (Unicode License v3) as shipped by npm {EmojiNames.Package}@{EmojiNames.Version} (MIT); " +
                "where CLDR has no entry, the package's emoji.json name.",
            ],
            items);
    }
}
