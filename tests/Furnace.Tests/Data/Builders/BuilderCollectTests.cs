// What each builder reads from its package (fixtures shaped like the real packages): which files become images,
// the captions made from the real names, Chinese where the data has it, credits, and what is left out.
using Furnace.Data.Builders;
using Furnace.Tests.Support;

namespace Furnace.Tests.Data.Builders;

public sealed class BuilderCollectTests
{
    private static SourceImage Item(SourceDataset ds, string id) => Assert.Single(ds.Items, i => i.Id == id);

    [Fact]
    public void OpenMoji_Collect_CaptionsFromAnnotationsChineseFromCldrAuthorsCredited()
    {
        using var dir = new TempDir();
        var ds = new OpenMojiBuilder().Collect(FakePackages.Create(dir.Path));
        Assert.Equal("CC-BY-SA-4.0", ds.License);
        // component (skin-tone swatch) and the entry without an SVG are left out
        Assert.DoesNotContain(ds.Items, i => i.Id == "1f3fb" || i.Id == "1f680");
        var grin = Item(ds, "1f600");
        Assert.Equal("a grinning face emoji", grin.Captions[0]);
        Assert.Contains("a grinning face emoji, tagged face and grin", grin.Captions);
        Assert.Equal(["嘿嘿的表情符号", "一个“嘿嘿”表情符号"], grin.CaptionsZh);
        Assert.Equal("Emily Jäger", grin.Credit);
        var flag = Item(ds, "1f1eb-1f1f7");
        Assert.Equal("the flag of France", flag.Captions[0]);
        Assert.Equal("法国的旗帜", flag.CaptionsZh![0]);
        Assert.Null(Item(ds, "1f955").CaptionsZh); // carrot: no Chinese name in the fixture's CLDR data
        Assert.EndsWith("color/svg/1F600.svg", grin.Path.Replace('\\', '/'));
    }

    [Fact]
    public void EmojiGoogle_Collect_SkinVariantsNamedByCldrFallbackToPackageName()
    {
        using var dir = new TempDir();
        var ds = new EmojiGoogleBuilder().Collect(FakePackages.Create(dir.Path));
        Assert.Equal(["1f44b", "1f44b-1f3fd", "1f415", "1f34e", "2764-fe0f"], ds.Items.Select(i => i.Id));
        Assert.Equal("the waving hand emoji with medium skin tone", Item(ds, "1f44b-1f3fd").Captions[0]);
        Assert.Equal(["挥手（中等肤色）的表情符号"], Item(ds, "1f44b-1f3fd").CaptionsZh);
        Assert.Equal("a dog emoji", Item(ds, "1f415").Captions[0]);
        var heart = Item(ds, "2764-fe0f");
        Assert.Equal("a heavy black heart emoji", heart.Captions[0]);
        Assert.Null(heart.CaptionsZh);
    }

    [Fact]
    public void Mdi_Collect_NameWordsAndCategory()
    {
        using var dir = new TempDir();
        var ds = new MdiBuilder().Collect(FakePackages.Create(dir.Path));
        Assert.Equal(2, ds.Items.Count);
        var account = Item(ds, "account-circle");
        Assert.Equal(["an account circle icon", "a black account circle icon from Material Design Icons", "an account circle icon, in the account / user category"], account.Captions);
        Assert.Null(account.CaptionsZh);
        Assert.Equal("Google", account.Credit);
        Assert.Equal(2, Item(ds, "ab-testing").Captions.Count);
    }

    [Fact]
    public void Flags_Collect_ChineseOnlyForIsoCodesFirstOfSeveralNames()
    {
        using var dir = new TempDir();
        var ds = new FlagsBuilder().Collect(FakePackages.Create(dir.Path));
        Assert.Equal(["fr", "gb-eng", "cn"], ds.Items.Select(i => i.Id));
        Assert.Equal(["the flag of France", "a picture of the flag of France"], Item(ds, "fr").Captions);
        Assert.Equal(["法国的旗帜", "一面法国的旗帜"], Item(ds, "fr").CaptionsZh);
        Assert.Equal("中国的旗帜", Item(ds, "cn").CaptionsZh![0]);
        Assert.Null(Item(ds, "gb-eng").CaptionsZh);
    }

    [Fact]
    public void TuxPaint_Collect_FirstLineEnglishZhCnChineseStampsWithoutTextSkipped()
    {
        using var dir = new TempDir();
        var ds = new TuxPaintBuilder().Collect(FakePackages.Create(dir.Path));
        Assert.Equal(["animals_mammals_cat", "food_pear"], ds.Items.Select(i => i.Id));
        var cat = Item(ds, "animals_mammals_cat");
        Assert.Equal(["A cat is a small furry pet."], cat.Captions);
        Assert.Equal(["猫是一种毛茸茸的小宠物。"], cat.CaptionsZh);
        Assert.EndsWith("cat.png", cat.Path);
        var pear = Item(ds, "food_pear");
        Assert.Equal(["A pear."], pear.Captions);
        Assert.Null(pear.CaptionsZh);
        Assert.EndsWith("pear.svg", pear.Path);
        Assert.Contains("GPL-2", ds.LicenseText);
    }

    [Fact]
    public void OpenClipart_Collect_TitleKeywordsCreatorBoilerplateTitlesDropped()
    {
        using var dir = new TempDir();
        var ds = new OpenClipartBuilder().Collect(FakePackages.Create(dir.Path));
        // "nothing.svg" has no title and only a noise keyword: left out
        Assert.Equal(["computer_icons_print", "tools_magnifier"], ds.Items.Select(i => i.Id));
        var glass = Item(ds, "tools_magnifier");
        Assert.Equal(["clip art of magnifying glass", "a clip art drawing titled \"Magnifying glass\"", "clip art tagged tool, loupe and glass"], glass.Captions);
        Assert.Equal("Tom K", glass.Credit);
        Assert.Equal(["clip art tagged printer and computer"], Item(ds, "computer_icons_print").Captions);
    }

    [Theory]
    [InlineData("arrow-up-yellow", "arrow up yellow")]
    [InlineData("Ice Cream Cone (1 scoop)", "Ice Cream Cone (1 scoop)")]
    [InlineData("ninja_star  two", "ninja star two")]
    [InlineData("Lemon SVG theme", null)]
    [InlineData("Clipart by Nicu Buculei - arrow08_4", null)]
    [InlineData("Part of the Flat Icon Collection (Wed Aug 25 23:29:46 2004)", null)]
    [InlineData("AIGA_Symbol_Signs", null)]
    [InlineData("image123", null)]
    [InlineData("  ", null)]
    public void OpenClipart_CleanTitle_SlugsSpacedBoilerplateDropped(string title, string? expected) =>
        Assert.Equal(expected, OpenClipartBuilder.CleanTitle(title));

    [Fact]
    public void OpenClipart_ReadMetadata_WorkTitleNotPublisherTitle()
    {
        var (title, keywords, creator) = OpenClipartBuilder.ReadMetadata(FakePackages.Clipart("Fish &amp; chips", ["food"], "Ann"));
        Assert.Equal("Fish & chips", title);
        Assert.Equal(["food"], keywords);
        Assert.Equal("Ann", creator);
        var none = OpenClipartBuilder.ReadMetadata("<svg/>");
        Assert.Null(none.Title);
        Assert.Empty(none.Keywords);
        Assert.Null(none.Creator);
    }

    [Fact]
    public void Spread_LimitPicksEvenlyAcrossTheList()
    {
        int[] items = Enumerable.Range(0, 10).ToArray();
        Assert.Equal([0, 2, 5, 7], DatasetFolder.Spread(items, 4));
        Assert.Same(items, DatasetFolder.Spread(items, null));
        Assert.Same(items, DatasetFolder.Spread(items, 50));
        Assert.Throws<FurnaceException>(() => DatasetFolder.Spread(items, 0));
    }

    [Fact]
    public void DatasetBuilders_Get_KnownNamesAndAClearErrorOtherwise()
    {
        Assert.Equal(["openmoji", "emoji-google", "mdi", "flags", "tuxpaint", "openclipart", "scenes"], DatasetBuilders.All.Select(b => b.Name));
        Assert.IsType<FlagsBuilder>(DatasetBuilders.Get("FLAGS"));
        var e = Assert.Throws<FurnaceException>(() => DatasetBuilders.Get("coco"));
        Assert.Contains("unknown dataset 'coco'", e.Message);
    }

    [Fact]
    public void ExternalTool_MissingToolOrFailure_OneLineErrorNamingIt()
    {
        var missing = Assert.Throws<FurnaceException>(() => ExternalTool.Run("furnace-no-such-tool-xyz", [], missingHint: "install it"));
        Assert.StartsWith("furnace-no-such-tool-xyz: not found", missing.Message);
        Assert.EndsWith("; install it", missing.Message);
        var failed = Assert.Throws<FurnaceException>(() => ExternalTool.Check("sh", ["-c", "echo first >&2; echo 'the reason' >&2; exit 3"]));
        Assert.Equal("sh -c echo first >&2; echo 'the reason' >&2; exit 3 failed (exit 3): the reason", failed.Message);
        Assert.Equal("hi\n"u8.ToArray(), ExternalTool.Check("sh", ["-c", "printf 'hi\\n'"]).Stdout);
    }

    [Fact]
    public void PackageCache_CompleteFolder_UsedWithoutDownloading()
    {
        using var dir = new TempDir();
        // no npm call can succeed for this made-up package, so reaching the folder proves no download was tried
        string pkg = Path.Combine(dir.Path, "npm", "no-such-package-9.9.9", "package");
        Directory.CreateDirectory(pkg);
        File.WriteAllText(Path.Combine(dir.Path, "npm", "no-such-package-9.9.9", ".complete"), "");
        Assert.Equal(pkg, new PackageCache(dir.Path).Npm("no-such-package", "9.9.9"));
    }
}
