// `furnace data build flags`: the flag-icons set (npm flag-icons 7.5.0, MIT): 271 flags as 4:3 SVGs with
// country.json giving each code's English name. Chinese captions from the Chinese country names of npm
// i18n-iso-countries (langs/zh.json) for the ISO 3166-1 codes; sub-national and organisation flags (gb-eng, eu,
// un…) have none there and get English captions only.
using System.Text.Json;

namespace Furnace.Data.Builders;

public sealed class FlagsBuilder : ObjectDatasetBuilder
{
    public const string Package = "flag-icons";
    public const string Version = "7.5.0";
    public const string CountriesPackage = "i18n-iso-countries";
    public const string CountriesVersion = "7.14.0";

    public override string Name => "flags";

    public override string Description => "Flags of the world (npm flag-icons, MIT): 271 SVG flags, names EN, Chinese names from i18n-iso-countries";

    protected override bool Outline => true;

    public override SourceDataset Collect(PackageCache cache) =>
        Collect(cache.Npm(Package, Version), ChineseNames(cache.Npm(CountriesPackage, CountriesVersion)));

    /// <summary>ISO 3166-1 alpha-2 (upper case) → Chinese name, from i18n-iso-countries' langs/zh.json (first name of a list).</summary>
    public static IReadOnlyDictionary<string, string> ChineseNames(string countriesPackageDir)
    {
        string path = Path.Combine(countriesPackageDir, "langs", "zh.json");
        if (!File.Exists(path)) throw new FurnaceException($"{path}: missing (is this the npm i18n-iso-countries package?)");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!doc.RootElement.TryGetProperty("countries", out var countries)) throw new FurnaceException($"{path}: no \"countries\"");
        foreach (var c in countries.EnumerateObject())
        {
            string? name = c.Value.ValueKind switch
            {
                JsonValueKind.String => c.Value.GetString(),
                JsonValueKind.Array => c.Value.EnumerateArray().Select(v => v.GetString()).FirstOrDefault(v => !string.IsNullOrWhiteSpace(v)),
                _ => null,
            };
            if (!string.IsNullOrWhiteSpace(name)) names[c.Name.ToUpperInvariant()] = name.Trim();
        }
        return names;
    }

    public static SourceDataset Collect(string packageDir, IReadOnlyDictionary<string, string> chinese)
    {
        string json = Path.Combine(packageDir, "country.json");
        if (!File.Exists(json)) throw new FurnaceException($"{json}: missing (is this the npm flag-icons package?)");
        using var doc = JsonDocument.Parse(File.ReadAllBytes(json));
        var items = new List<SourceImage>();
        foreach (var c in doc.RootElement.EnumerateArray())
        {
            string code = Str(c, "code"), name = Str(c, "name"), flag = Str(c, "flag_4x3");
            if (code.Length == 0 || name.Length == 0 || flag.Length == 0) continue;
            string svg = Path.Combine(packageDir, flag);
            if (!File.Exists(svg)) continue;
            IReadOnlyList<string>? zh = code.Length == 2 && chinese.TryGetValue(code.ToUpperInvariant(), out string? z)
                ? [$"{z}的旗帜", $"一面{z}的旗帜"]
                : null;
            items.Add(new SourceImage(ObjectDatasetBuilder.SafeId(code), svg, [$"the flag of {name}", $"a picture of the flag of {name}"], zh));
        }
        return new SourceDataset("flags", $"npm {Package}@{Version}", "MIT", ReadLicense(packageDir, "LICENSE"),
            [
                $"Images: flag-icons {Version} (npm {Package}), https://flagicons.lipis.dev, MIT; the 4:3 SVGs.",
                "English names: the package's country.json.",
                $"Chinese names: npm {CountriesPackage}@{CountriesVersion} (MIT), langs/zh.json.",
            ],
            items);
    }

    private static string Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? (v.GetString() ?? "").Trim() : "";
}
