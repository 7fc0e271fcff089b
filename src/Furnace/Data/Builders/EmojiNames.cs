// CLDR emoji names by code point sequence, as npm emojibase-data ships them (en/data.json, zh/data.json, skin-tone
// variants included): the English label and tags, and the Chinese label. Keys are upper-case hex sequences without
// FE0F (variation selector 16), so "26F9-FE0F-200D-2642-FE0F" and "26F9-200D-2642" meet.
using System.Text.Json;

namespace Furnace.Data.Builders;

public sealed class EmojiNames
{
    public const string Package = "emojibase-data";
    public const string Version = "17.0.0";

    private readonly Dictionary<string, (string Label, string[] Tags)> _en;
    private readonly Dictionary<string, string> _zh;

    private EmojiNames(Dictionary<string, (string, string[])> en, Dictionary<string, string> zh)
    {
        _en = en;
        _zh = zh;
    }

    public static EmojiNames Load(PackageCache cache) => Load(cache.Npm(Package, Version));

    /// <summary>Reads an emojibase-data package folder (en/data.json and zh/data.json).</summary>
    public static EmojiNames Load(string packageDir)
    {
        var en = new Dictionary<string, (string, string[])>(StringComparer.Ordinal);
        var zh = new Dictionary<string, string>(StringComparer.Ordinal);
        Read(Path.Combine(packageDir, "en", "data.json"), (key, label, tags) => en.TryAdd(key, (label, tags)));
        Read(Path.Combine(packageDir, "zh", "data.json"), (key, label, _) => zh.TryAdd(key, label));
        return new EmojiNames(en, zh);
    }

    public static string Key(string hexSequence) =>
        string.Join('-', hexSequence.ToUpperInvariant().Split('-', '_', ' ').Where(p => p.Length > 0 && p != "FE0F"));

    public string? English(string hex) => _en.TryGetValue(Key(hex), out var e) ? e.Label : null;

    public IReadOnlyList<string> Tags(string hex) => _en.TryGetValue(Key(hex), out var e) ? e.Tags : [];

    public string? Chinese(string hex) => _zh.TryGetValue(Key(hex), out string? z) ? z : null;

    private static void Read(string path, Action<string, string, string[]> add)
    {
        if (!File.Exists(path)) throw new FurnaceException($"{path}: missing (is this an emojibase-data package?)");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        foreach (var e in doc.RootElement.EnumerateArray())
        {
            AddOne(e, add);
            if (e.TryGetProperty("skins", out var skins) && skins.ValueKind == JsonValueKind.Array)
            {
                foreach (var s in skins.EnumerateArray()) AddOne(s, add);
            }
        }
    }

    private static void AddOne(JsonElement e, Action<string, string, string[]> add)
    {
        if (!e.TryGetProperty("hexcode", out var hex) || !e.TryGetProperty("label", out var label)) return;
        string? h = hex.GetString(), l = label.GetString();
        if (string.IsNullOrWhiteSpace(h) || string.IsNullOrWhiteSpace(l)) return;
        string[] tags = e.TryGetProperty("tags", out var t) && t.ValueKind == JsonValueKind.Array
            ? t.EnumerateArray().Select(x => x.GetString() ?? "").Where(x => x.Length > 0).ToArray()
            : [];
        add(Key(h), l.Trim(), tags);
    }
}
