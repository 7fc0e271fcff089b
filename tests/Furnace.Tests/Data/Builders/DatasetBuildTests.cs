// Whole builds on the package fixtures: the folder a build writes (JSONL the dataset reader accepts, images of the
// requested size on white, LICENSE, ATTRIBUTION.md, dataset.json), atomic replacement, --limit, --dry-run, the
// scenes' train/eval split and its reproducibility. SVG builds need librsvg's rsvg-convert on PATH (scripts/test.sh
// installs librsvg2-bin). One test reads the real packages when they are in the user's package cache.
using System.Text.Json;
using Furnace.Data;
using Furnace.Data.Builders;
using Furnace.Tests.Support;
using SkiaSharp;

namespace Furnace.Tests.Data.Builders;

public sealed class DatasetBuildTests
{
    private static DatasetBuildRequest Request(string outDir, PackageCache cache, int size = 32, int? limit = null, bool force = false) =>
        new(outDir, cache, size, limit, force) { Threads = 2 };

    private static void RequireRsvg() =>
        Assert.True(ExternalTool.OnPath("rsvg-convert") is not null, "rsvg-convert is not on PATH: apt-get install librsvg2-bin (scripts/test.sh does)");

    [Fact]
    public void Build_EmojiGoogle_WritesReadableDatasetWithLicenceAndCounts()
    {
        using var dir = new TempDir();
        var cache = FakePackages.Create(dir.File("cache"));
        string outDir = dir.File("out/emoji");
        var report = new EmojiGoogleBuilder().Build(Request(outDir, cache));
        Assert.Equal(5, report.Images);
        Assert.Equal(4, report.WithChinese);
        Assert.Equal(0, report.Skipped);
        Assert.False(Directory.Exists(outDir + ".tmp"));

        var ds = CaptionDataset.LoadJsonl(Path.Combine(outDir, "captions.jsonl"));
        Assert.Equal(5, ds.Count);
        Assert.Equal("a dog emoji", ds["1f415"].Captions[0]);
        Assert.Equal("狗的表情符号", ds["1f415"].CaptionsZh![0]);
        Assert.Null(ds["2764-fe0f"].CaptionsZh);
        using (var png = SKBitmap.Decode(ds["1f415"].ImagePath))
        {
            Assert.Equal((32, 32), (png.Width, png.Height));
            Assert.Equal(new SKColor(255, 255, 255), png.GetPixel(0, 0));
            var centre = png.GetPixel(16, 16);
            Assert.True(centre.Green > 120 && centre.Red < 40, $"centre {centre}");
        }
        Assert.Contains("Apache License", File.ReadAllText(Path.Combine(outDir, "LICENSE")));
        Assert.Contains("emojibase-data", File.ReadAllText(Path.Combine(outDir, "ATTRIBUTION.md")));
        using var manifest = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "dataset.json")));
        Assert.Equal(5, manifest.RootElement.GetProperty("images").GetInt32());
        Assert.Equal(4, manifest.RootElement.GetProperty("images_with_chinese").GetInt32());
        Assert.Equal("Apache-2.0", manifest.RootElement.GetProperty("license").GetString());
    }

    [Fact]
    public void Build_ExistingOut_FailsWithoutForceReplacedWithForce()
    {
        using var dir = new TempDir();
        var cache = FakePackages.Create(dir.File("cache"));
        string outDir = dir.File("emoji");
        Directory.CreateDirectory(outDir);
        File.WriteAllText(Path.Combine(outDir, "keep.txt"), "mine");
        var e = Assert.Throws<FurnaceException>(() => new EmojiGoogleBuilder().Build(Request(outDir, cache)));
        Assert.Contains("already exists", e.Message);
        Assert.True(File.Exists(Path.Combine(outDir, "keep.txt")));

        new EmojiGoogleBuilder().Build(Request(outDir, cache, force: true));
        Assert.False(File.Exists(Path.Combine(outDir, "keep.txt")));
        Assert.True(File.Exists(Path.Combine(outDir, "captions.jsonl")));
    }

    [Fact]
    public void Build_LimitAndDryRun()
    {
        using var dir = new TempDir();
        var cache = FakePackages.Create(dir.File("cache"));
        var limited = new EmojiGoogleBuilder().Build(Request(dir.File("two"), cache, limit: 2));
        Assert.Equal(2, limited.Images);
        Assert.Equal(2, File.ReadAllLines(Path.Combine(dir.File("two"), "captions.jsonl")).Length);
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir.File("two"), "images")).Length);

        var dry = new EmojiGoogleBuilder().Build(Request(dir.File("dry"), cache) with { DryRun = true });
        Assert.Equal(5, dry.Images);
        Assert.False(Directory.Exists(dir.File("dry")));
    }

    [Fact]
    public void Build_OpenMoji_RasterisesSvgCentredOnWhite()
    {
        RequireRsvg();
        using var dir = new TempDir();
        var cache = FakePackages.Create(dir.File("cache"));
        string outDir = dir.File("openmoji");
        var report = new OpenMojiBuilder().Build(Request(outDir, cache, size: 48));
        Assert.Equal(9, report.Images);
        var ds = CaptionDataset.LoadJsonl(Path.Combine(outDir, "captions.jsonl"));
        using var png = SKBitmap.Decode(ds["1f415"].ImagePath);
        Assert.Equal((48, 48), (png.Width, png.Height));
        Assert.Equal(new SKColor(255, 0, 0), png.GetPixel(24, 24));
        Assert.Equal(new SKColor(255, 255, 255), png.GetPixel(1, 1));
        Assert.Contains("| images/1f600.png | Emily Jäger |", File.ReadAllText(Path.Combine(outDir, "ATTRIBUTION.md")));
    }

    [Fact]
    public void Build_Flags_KeepsAspectRatio()
    {
        RequireRsvg();
        using var dir = new TempDir();
        var cache = FakePackages.Create(dir.File("cache"));
        string outDir = dir.File("flags");
        new FlagsBuilder().Build(Request(outDir, cache, size: 64));
        using var png = SKBitmap.Decode(Path.Combine(outDir, "images", "fr.png"));
        // a 2:1 blue rectangle fitted to 92% of 64 px: about 59 × 29 px, so rows near the top and bottom are white
        Assert.Equal(new SKColor(255, 255, 255), png.GetPixel(32, 8));
        Assert.Equal(new SKColor(0, 0, 255), png.GetPixel(32, 32));
        Assert.Equal(new SKColor(255, 255, 255), png.GetPixel(32, 56));
    }

    [Fact]
    public void Build_Scenes_TrainAndHeldOutEvalReproducibleForASeed()
    {
        RequireRsvg();
        using var dir = new TempDir();
        var cache = FakePackages.Create(dir.File("cache"));
        var a = new ScenesBuilder().Build(Request(dir.File("a"), cache, size: 64, limit: 20));
        Assert.Equal(("captions.jsonl", 20), a.Splits["train"]);
        Assert.Equal(("eval.jsonl", 2), a.Splits["eval"]);
        var train = CaptionDataset.LoadJsonl(Path.Combine(dir.File("a"), "captions.jsonl"));
        var eval = CaptionDataset.LoadJsonl(Path.Combine(dir.File("a"), "eval.jsonl"));
        Assert.Equal(20, train.Count);
        Assert.Equal(2, eval.Count);
        // fixture objects: dog, cat, horse, red apple, banana, carrot (grapes is plural, the face is not in a scene group)
        string[] names = ["dog", "cat", "horse", "red apple", "banana", "carrot", "dogs", "cats", "horses", "red apples", "bananas", "carrots"];
        Assert.All(train.Items, i => Assert.Contains(names, n => i.Captions[0].Contains(n, StringComparison.Ordinal)));
        Assert.True(File.Exists(Path.Combine(dir.File("a"), "heldout.tsv")));

        new ScenesBuilder().Build(Request(dir.File("b"), cache, size: 64, limit: 20));
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("a"), "captions.jsonl")), File.ReadAllBytes(Path.Combine(dir.File("b"), "captions.jsonl")));
        Assert.Equal(File.ReadAllBytes(Path.Combine(dir.File("a"), "images", "train_000007.png")),
            File.ReadAllBytes(Path.Combine(dir.File("b"), "images", "train_000007.png")));
    }

    [Fact]
    public void TrimTransparent_CropsToVisiblePixels()
    {
        using var bmp = new SKBitmap(new SKImageInfo(20, 10, SKColorType.Rgba8888, SKAlphaType.Premul));
        bmp.Erase(SKColors.Transparent);
        bmp.SetPixel(3, 2, SKColors.Red);
        bmp.SetPixel(12, 7, SKColors.Blue);
        using var trimmed = ImageRasterizer.TrimTransparent(bmp)!;
        Assert.Equal((10, 6), (trimmed.Width, trimmed.Height));
        Assert.Equal(SKColors.Red, trimmed.GetPixel(0, 0));
        Assert.Equal(SKColors.Blue, trimmed.GetPixel(9, 5));
        bmp.Erase(SKColors.Transparent);
        Assert.Null(ImageRasterizer.TrimTransparent(bmp));
        bmp.Erase(SKColors.Green);
        Assert.Same(bmp, ImageRasterizer.TrimTransparent(bmp));
    }

    /// <summary>Runs only where `furnace data build` has already downloaded the real packages into the default cache.</summary>
    public sealed class RealPackagesFactAttribute : FactAttribute
    {
        public RealPackagesFactAttribute()
        {
            if (!File.Exists(Path.Combine(PackageCache.DefaultRoot, "npm", "flag-icons-7.5.0", ".complete"))
                || !File.Exists(Path.Combine(PackageCache.DefaultRoot, "npm", "i18n-iso-countries-7.14.0", ".complete")))
                Skip = $"real packages not cached in {PackageCache.DefaultRoot} (run `furnace data build flags --out DIR` once; no network in tests)";
        }
    }

    [RealPackagesFact]
    public void Collect_RealFlagIcons_271FlagsWith250ChineseNames()
    {
        var ds = new FlagsBuilder().Collect(new PackageCache(PackageCache.DefaultRoot));
        Assert.Equal(271, ds.Items.Count);
        Assert.Equal(250, ds.Items.Count(i => i.CaptionsZh is not null));
        var fr = Assert.Single(ds.Items, i => i.Id == "fr");
        Assert.Equal("the flag of France", fr.Captions[0]);
        Assert.Equal("法国的旗帜", fr.CaptionsZh![0]);
    }
}
