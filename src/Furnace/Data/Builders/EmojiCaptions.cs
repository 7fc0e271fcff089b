// Caption sentences for one emoji from its real CLDR names: English ("a grinning face emoji", "the flag of France",
// "the waving hand emoji with medium skin tone", plus one with its CLDR tags) and Chinese ("咧嘴笑的表情符号",
// "法国的旗帜"). Only names that exist in the data are used; nothing is translated or invented.
namespace Furnace.Data.Builders;

public static class EmojiCaptions
{
    public static IReadOnlyList<string> English(string name, IReadOnlyList<string> tags)
    {
        name = name.Trim();
        var captions = new List<string>(3);
        if (name.StartsWith("flag: ", StringComparison.Ordinal))
        {
            string place = name["flag: ".Length..].Trim();
            captions.Add($"the flag of {place}");
            captions.Add($"an emoji of the flag of {place}");
            return captions;
        }
        int colon = name.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0)
        {
            // "waving hand: medium skin tone", "kiss: woman, man, light skin tone"
            string baseName = name[..colon], detail = name[(colon + 2)..];
            captions.Add($"the {baseName} emoji with {detail}");
            captions.Add($"{ObjectDatasetBuilder.Article(baseName)} {baseName} emoji, {detail}");
            return captions;
        }
        captions.Add($"{ObjectDatasetBuilder.Article(name)} {name} emoji");
        captions.Add($"the {name} emoji");
        var useful = tags.Select(t => t.Trim()).Where(t => t.Length > 1 && !t.Equals(name, StringComparison.OrdinalIgnoreCase)).Distinct().Take(4).ToList();
        if (useful.Count > 0) captions.Add($"{ObjectDatasetBuilder.Article(name)} {name} emoji, tagged {ObjectDatasetBuilder.JoinAnd(useful)}");
        return captions;
    }

    public static IReadOnlyList<string>? Chinese(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        name = name.Trim();
        if (name.StartsWith("旗: ", StringComparison.Ordinal) || name.StartsWith("旗：", StringComparison.Ordinal))
        {
            string place = name[2..].Trim();
            return [$"{place}的旗帜", $"{place}旗帜的表情符号"];
        }
        int colon = name.IndexOf(": ", StringComparison.Ordinal);
        if (colon > 0) return [$"{name[..colon]}（{name[(colon + 2)..]}）的表情符号"];
        return [$"{name}的表情符号", $"一个“{name}”表情符号"];
    }
}
