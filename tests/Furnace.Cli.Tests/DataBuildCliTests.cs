// `furnace data build` end to end on a package-shaped fixture cache (no network): help lists the sources, unknown
// names and existing outputs are one-line errors, and a flags build writes the dataset and a JSON summary.
using System.Text.Json;

namespace Furnace.Cli.Tests;

public sealed class DataBuildCliTests
{
    private static string FlagsCache(TempDir dir)
    {
        string cache = dir.File("cache");
        string flags = Path.Combine(cache, "npm", "flag-icons-7.5.0");
        Directory.CreateDirectory(Path.Combine(flags, "package", "flags", "4x3"));
        File.WriteAllText(Path.Combine(flags, ".complete"), "test");
        File.WriteAllText(Path.Combine(flags, "package", "country.json"), """[{"code": "fr", "name": "France", "flag_4x3": "flags/4x3/fr.svg", "iso": true}, {"code": "gb-eng", "name": "England", "flag_4x3": "flags/4x3/gb-eng.svg", "iso": false}]""");
        foreach (string c in new[] { "fr", "gb-eng" })
            File.WriteAllText(Path.Combine(flags, "package", "flags", "4x3", c + ".svg"), """<svg xmlns="http://www.w3.org/2000/svg" width="30" height="20"><rect width="30" height="20" fill="#0000ff"/></svg>""");
        File.WriteAllText(Path.Combine(flags, "package", "LICENSE"), "MIT (fixture)");
        string countries = Path.Combine(cache, "npm", "i18n-iso-countries-7.14.0");
        Directory.CreateDirectory(Path.Combine(countries, "package", "langs"));
        File.WriteAllText(Path.Combine(countries, ".complete"), "test");
        File.WriteAllText(Path.Combine(countries, "package", "langs", "zh.json"), """{"locale": "zh", "countries": {"FR": "法国"}}""");
        return cache;
    }

    [Fact]
    public void DataBuildHelp_ListsEverySource()
    {
        var r = FurnaceProcess.Run("data", "build", "--help");
        Assert.Equal(0, r.ExitCode);
        foreach (string name in new[] { "openmoji", "emoji-google", "mdi", "flags", "tuxpaint", "openclipart", "scenes" }) Assert.Contains(name, r.Stdout);
        Assert.Contains("--limit", r.Stdout);
    }

    [Fact]
    public void DataBuild_UnknownName_OneLineError()
    {
        using var dir = new TempDir();
        var r = FurnaceProcess.Run("data", "build", "coco", "--out", dir.File("x"), "--cache", dir.File("cache"));
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("furnace: error: unknown dataset 'coco' (known: openmoji, emoji-google", r.Stderr.Trim());
    }

    [Theory]
    [InlineData("flags", "1", "--objects applies to scenes only, not flags")]
    [InlineData("scenes", "1", "--objects 1 must be at least 2")]
    public void DataBuild_BadObjects_OneLineErrorWritesNothing(string name, string objects, string message)
    {
        using var dir = new TempDir();
        string outDir = dir.File("x");
        var r = FurnaceProcess.Run("data", "build", name, "--out", outDir, "--cache", dir.File("cache"), "--objects", objects, "--dry-run");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(message, r.Stderr);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void DataBuildFlags_FixtureCache_WritesDatasetAndJsonSummary()
    {
        using var dir = new TempDir();
        string cache = FlagsCache(dir), outDir = dir.File("flags");
        var r = FurnaceProcess.Run("data", "build", "flags", "--out", outDir, "--cache", cache, "--size", "32", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var summary = JsonDocument.Parse(r.Stdout);
        Assert.Equal(2, summary.RootElement.GetProperty("images").GetInt32());
        Assert.Equal(1, summary.RootElement.GetProperty("images_with_chinese").GetInt32());
        string[] lines = File.ReadAllLines(Path.Combine(outDir, "captions.jsonl"));
        Assert.Equal("""{"id":"fr","image":"images/fr.png","captions":["the flag of France","a picture of the flag of France"],"captions_zh":["法国的旗帜","一面法国的旗帜"]}""", lines[0]);
        Assert.True(File.Exists(Path.Combine(outDir, "images", "gb-eng.png")));

        var again = FurnaceProcess.Run("data", "build", "flags", "--out", outDir, "--cache", cache);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("already exists", again.Stderr);
    }
}
