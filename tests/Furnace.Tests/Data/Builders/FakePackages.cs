// Tiny package-shaped fixtures for the data builders: a PackageCache folder already holding "downloaded" npm and
// Debian packages laid out as the real ones are (same paths, same JSON fields, a handful of entries), so the
// builders run without a network.
using System.Text;
using Furnace.Data.Builders;
using SkiaSharp;

namespace Furnace.Tests.Data.Builders;

internal static class FakePackages
{
    public const string RedCircle = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 72 72"><circle cx="36" cy="36" r="30" fill="#ff0000"/></svg>""";
    public const string BlueSquare = """<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20"><rect width="40" height="20" fill="#0000ff"/></svg>""";

    /// <summary>The cache root with every package of the builders present (and marked complete).</summary>
    public static PackageCache Create(string root)
    {
        OpenMoji(Npm(root, "openmoji", "17.0.0"));
        Emojibase(Npm(root, "emojibase-data", "17.0.0"));
        EmojiGoogle(Npm(root, "emoji-datasource-google", "16.0.0"));
        Mdi(Npm(root, "mdi_svg", "7.4.47"));
        Flags(Npm(root, "flag-icons", "7.5.0"));
        Countries(Npm(root, "i18n-iso-countries", "7.14.0"));
        TuxPaint(Deb(root, "tuxpaint-stamps-default_2022.06.04-1"));
        OpenClipart(Deb(root, "openclipart-svg_1_0.18+dfsg-19"));
        return new PackageCache(root);
    }

    private static string Npm(string root, string dirName, string version)
    {
        string dir = Path.Combine(root, "npm", $"{dirName}-{version}");
        Directory.CreateDirectory(Path.Combine(dir, "package"));
        File.WriteAllText(Path.Combine(dir, ".complete"), "test");
        return Path.Combine(dir, "package");
    }

    private static string Deb(string root, string dirName)
    {
        string dir = Path.Combine(root, "deb", dirName);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, ".complete"), "test");
        return dir;
    }

    public static void Write(string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text, new UTF8Encoding(false));
    }

    /// <summary>A w×h PNG: a filled disc of the colour on a transparent ground.</summary>
    public static void Png(string path, SKColor color, int w = 16, int h = 16)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bmp = new SKBitmap(new SKImageInfo(w, h, SKColorType.Rgba8888, SKAlphaType.Premul));
        using (var canvas = new SKCanvas(bmp))
        {
            canvas.Clear(SKColors.Transparent);
            using var paint = new SKPaint { Color = color, IsAntialias = true };
            canvas.DrawOval(SKRect.Create(1, 1, w - 2, h - 2), paint);
        }
        using var image = SKImage.FromBitmap(bmp);
        using var data = image.Encode(SKEncodedImageFormat.Png, 100);
        File.WriteAllBytes(path, data.ToArray());
    }

    // (hexcode, annotation, group, subgroup, tags, author, has svg)
    private static readonly (string Hex, string Name, string Group, string Sub, string Tags, string Author, bool Svg)[] OpenMojiEntries =
    [
        ("1F600", "grinning face", "smileys-emotion", "face-smiling", "face, grin", "Emily Jäger", true),
        ("1F415", "dog", "animals-nature", "animal-mammal", "pet", "Ann A", true),
        ("1F408", "cat", "animals-nature", "animal-mammal", "", "Ann A", true),
        ("1F40E", "horse", "animals-nature", "animal-mammal", "", "Ben B", true),
        ("1F34E", "red apple", "food-drink", "food-fruit", "fruit", "Ben B", true),
        ("1F34C", "banana", "food-drink", "food-fruit", "", "Ben B", true),
        ("1F955", "carrot", "food-drink", "food-vegetable", "", "Ben B", true),
        ("1F347", "grapes", "food-drink", "food-fruit", "", "Ben B", true),
        ("1F3FB", "light skin tone", "component", "skin-tone", "", "Ann A", true),
        ("1F1EB-1F1F7", "flag: France", "flags", "country-flag", "", "Ann A", true),
        ("1F680", "rocket", "travel-places", "transport-air", "", "Ann A", false),
    ];

    private static void OpenMoji(string pkg)
    {
        var json = new StringBuilder("[\n");
        foreach (var (e, i) in OpenMojiEntries.Select((e, i) => (e, i)))
        {
            json.Append($$"""{"emoji": "x", "hexcode": "{{e.Hex}}", "group": "{{e.Group}}", "subgroups": "{{e.Sub}}", "annotation": "{{e.Name}}", "tags": "{{e.Tags}}", "openmoji_tags": "", "openmoji_author": "{{e.Author}}", "skintone": ""}""");
            json.Append(i + 1 < OpenMojiEntries.Length ? ",\n" : "\n");
            if (e.Svg) Write(Path.Combine(pkg, "color", "svg", e.Hex + ".svg"), RedCircle);
        }
        Write(Path.Combine(pkg, "data", "openmoji.json"), json.Append(']').ToString());
        Write(Path.Combine(pkg, "LICENSE.txt"), "Attribution-ShareAlike 4.0 International (fixture)");
    }

    private static void Emojibase(string pkg)
    {
        Write(Path.Combine(pkg, "en", "data.json"), """
            [
              {"label": "grinning face", "hexcode": "1F600", "tags": ["face", "grin", "happy"]},
              {"label": "dog", "hexcode": "1F415", "tags": ["pet"]},
              {"label": "cat", "hexcode": "1F408", "tags": ["pet"]},
              {"label": "horse", "hexcode": "1F40E", "tags": []},
              {"label": "red apple", "hexcode": "1F34E", "tags": ["fruit"]},
              {"label": "banana", "hexcode": "1F34C"},
              {"label": "carrot", "hexcode": "1F955"},
              {"label": "grapes", "hexcode": "1F347"},
              {"label": "flag: France", "hexcode": "1F1EB-1F1F7"},
              {"label": "waving hand", "hexcode": "1F44B", "tags": ["wave"], "skins": [
                {"label": "waving hand: medium skin tone", "hexcode": "1F44B-1F3FD"}]}
            ]
            """);
        Write(Path.Combine(pkg, "zh", "data.json"), """
            [
              {"label": "嘿嘿", "hexcode": "1F600", "tags": ["脸"]},
              {"label": "狗", "hexcode": "1F415"},
              {"label": "猫", "hexcode": "1F408"},
              {"label": "马", "hexcode": "1F40E"},
              {"label": "红苹果", "hexcode": "1F34E"},
              {"label": "香蕉", "hexcode": "1F34C"},
              {"label": "旗: 法国", "hexcode": "1F1EB-1F1F7"},
              {"label": "挥手", "hexcode": "1F44B", "skins": [{"label": "挥手: 中等肤色", "hexcode": "1F44B-1F3FD"}]}
            ]
            """);
    }

    private static void EmojiGoogle(string pkg)
    {
        Write(Path.Combine(pkg, "emoji.json"), """
            [
              {"name": "WAVING HAND SIGN", "unified": "1F44B", "image": "1f44b.png", "has_img_google": true,
               "skin_variations": {"1F3FD": {"unified": "1F44B-1F3FD", "image": "1f44b-1f3fd.png", "has_img_google": true}}},
              {"name": "DOG FACE", "unified": "1F415", "image": "1f415.png", "has_img_google": true},
              {"name": "RED APPLE", "unified": "1F34E", "image": "1f34e.png", "has_img_google": true},
              {"name": "HEAVY BLACK HEART", "unified": "2764-FE0F", "image": "2764-fe0f.png", "has_img_google": true},
              {"name": "NO GOOGLE IMAGE", "unified": "1F9FF", "image": "1f9ff.png", "has_img_google": false}
            ]
            """);
        foreach (string png in new[] { "1f44b", "1f44b-1f3fd", "1f415", "1f34e", "2764-fe0f", "1f9ff" })
            Png(Path.Combine(pkg, "img", "google", "64", png + ".png"), new SKColor(0, 160, 0));
        Write(Path.Combine(pkg, "LICENSE"), "The MIT License (MIT) (fixture)");
    }

    private static void Mdi(string pkg)
    {
        Write(Path.Combine(pkg, "meta.json"), """
            [
              {"name": "account-circle", "aliases": [], "tags": ["Account / User"], "author": "Google"},
              {"name": "ab-testing", "aliases": [], "tags": [], "author": "Michael Richins"},
              {"name": "missing-svg", "tags": []}
            ]
            """);
        Write(Path.Combine(pkg, "svg", "account-circle.svg"), BlueSquare);
        Write(Path.Combine(pkg, "svg", "ab-testing.svg"), BlueSquare);
        Write(Path.Combine(pkg, "LICENSE"), "Apache License 2.0 (fixture)");
    }

    private static void Flags(string pkg)
    {
        Write(Path.Combine(pkg, "country.json"), """
            [
              {"capital": "Paris", "code": "fr", "continent": "Europe", "flag_1x1": "flags/1x1/fr.svg", "flag_4x3": "flags/4x3/fr.svg", "iso": true, "name": "France"},
              {"capital": "London", "code": "gb-eng", "continent": "Europe", "flag_1x1": "flags/1x1/gb-eng.svg", "flag_4x3": "flags/4x3/gb-eng.svg", "iso": false, "name": "England"},
              {"capital": "Beijing", "code": "cn", "continent": "Asia", "flag_1x1": "flags/1x1/cn.svg", "flag_4x3": "flags/4x3/cn.svg", "iso": true, "name": "China"}
            ]
            """);
        foreach (string c in new[] { "fr", "gb-eng", "cn" }) Write(Path.Combine(pkg, "flags", "4x3", c + ".svg"), BlueSquare);
        Write(Path.Combine(pkg, "LICENSE"), "The MIT License (fixture)");
    }

    private static void Countries(string pkg) =>
        Write(Path.Combine(pkg, "langs", "zh.json"), """{"locale": "zh", "countries": {"FR": "法国", "CN": ["中国", "中华人民共和国"], "GB": "英国"}}""");

    private static void TuxPaint(string root)
    {
        string stamps = Path.Combine(root, "usr", "share", "tuxpaint", "stamps");
        Png(Path.Combine(stamps, "animals", "mammals", "cat.png"), new SKColor(200, 120, 0), 40, 30);
        Write(Path.Combine(stamps, "animals", "mammals", "cat.txt"), "A cat is a small furry pet.\nde.utf8=Eine Katze.\nzh_CN.utf8=猫是一种毛茸茸的小宠物。\nzh_TW.utf8=貓。\n");
        Write(Path.Combine(stamps, "food", "pear.svg"), RedCircle);
        Write(Path.Combine(stamps, "food", "pear.txt"), "\nA pear.\nfr.utf8=Une poire.\n");
        Write(Path.Combine(stamps, "food", "lonely.txt"), "A text without a picture.\n");
        Png(Path.Combine(stamps, "food", "pear_mirror.png"), SKColors.Red);
        Write(Path.Combine(root, "usr", "share", "doc", "tuxpaint-stamps-default", "copyright"), "License: GPL-2 (fixture)");
    }

    private static void OpenClipart(string root)
    {
        string svg = Path.Combine(root, "usr", "share", "openclipart", "svg");
        Write(Path.Combine(svg, "tools", "magnifier.svg"), Clipart("Magnifying glass", ["tool", "loupe", "", "glass"], "Tom K"));
        Write(Path.Combine(svg, "computer", "icons", "print.svg"), Clipart("Part of the Flat Icon Collection (Wed Aug 25 2004)", ["hash", "printer", "computer"], "Flat"));
        Write(Path.Combine(svg, "unsorted", "nothing.svg"), Clipart("", ["unsorted"], "Nobody"));
        Write(Path.Combine(root, "usr", "share", "doc", "openclipart-svg", "copyright"), "Public Domain Dedication (fixture)");
    }

    public static string Clipart(string title, string[] keywords, string creator) => $$"""
        <?xml version="1.0" encoding="UTF-8"?>
        <svg xmlns="http://www.w3.org/2000/svg" xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:cc="http://web.resource.org/cc/"
             xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" viewBox="0 0 100 100">
          <metadata><rdf:RDF><cc:Work rdf:about="">
            <dc:title>{{title}}</dc:title>
            <dc:subject><rdf:Bag>{{string.Concat(keywords.Select(k => $"<rdf:li>{k}</rdf:li>"))}}</rdf:Bag></dc:subject>
            <dc:publisher><cc:Agent><dc:title>Open Clip Art Library</dc:title></cc:Agent></dc:publisher>
            <dc:creator><cc:Agent><dc:title>{{creator}}</dc:title></cc:Agent></dc:creator>
          </cc:Work></rdf:RDF></metadata>
          <rect x="10" y="10" width="80" height="80" fill="#00aa00"/>
        </svg>
        """;
}
