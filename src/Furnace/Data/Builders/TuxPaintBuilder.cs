// `furnace data build tuxpaint`: Tux Paint's rubber stamps (Debian tuxpaint-stamps-default 2022.06.04-1, GPL-2):
// ~950 pictures, many photo cut-outs, under usr/share/tuxpaint/stamps/CATEGORY/…/NAME.png|svg, each beside NAME.txt
// whose first line is an English sentence about it and whose "zh_CN.utf8=" line is the Chinese translation made by
// Tux Paint's translators. The PNG is used when both exist (the SVG otherwise).
namespace Furnace.Data.Builders;

public sealed class TuxPaintBuilder : ObjectDatasetBuilder
{
    public const string Package = "tuxpaint-stamps-default";
    public const string Version = "2022.06.04-1";

    public override string Name => "tuxpaint";

    public override string Description => "Tux Paint stamps (Debian tuxpaint-stamps-default, GPL-2): ~950 pictures, each with an English sentence, most with Chinese";

    public override SourceDataset Collect(PackageCache cache) => Collect(cache.Debian(Package, Version));

    /// <param name="root">The unpacked package (its usr/share/tuxpaint/stamps), or a stamps folder itself.</param>
    public static SourceDataset Collect(string root)
    {
        string stamps = Path.Combine(root, "usr", "share", "tuxpaint", "stamps");
        if (!Directory.Exists(stamps)) stamps = root;
        var texts = Directory.GetFiles(stamps, "*.txt", SearchOption.AllDirectories);
        Array.Sort(texts, StringComparer.Ordinal);
        var items = new List<SourceImage>();
        foreach (string txt in texts)
        {
            string stem = txt[..^4];
            string? image = File.Exists(stem + ".png") ? stem + ".png" : File.Exists(stem + ".svg") ? stem + ".svg" : null;
            if (image is null) continue;
            var (en, zh) = ReadDescription(txt);
            if (en is null) continue;
            string id = SafeId(Path.GetRelativePath(stamps, stem).Replace(Path.DirectorySeparatorChar, '_'));
            items.Add(new SourceImage(id, image, [en], zh is null ? null : [zh]));
        }
        string copyright = Path.Combine(root, "usr", "share", "doc", Package, "copyright");
        return new SourceDataset("tuxpaint", $"Debian {Package} {Version}", "GPL-2.0-or-later",
            File.Exists(copyright) ? File.ReadAllText(copyright) : "GPL-2.0-or-later (see Debian's copyright file of tuxpaint-stamps-default)",
            [
                $"Images and sentences: Tux Paint stamps by Bill Kendrick and contributors, Debian package {Package} {Version}, GPL-2.0-or-later " +
                "(http://www.tuxpaint.org). Derived images are distributed under the same licence.",
                "English captions: the first line of each stamp's .txt description; Chinese captions: its zh_CN translation line.",
            ],
            items);
    }

    /// <summary>The English sentence (first non-empty line that is not a "LANG.utf8=" translation) and the zh_CN one.</summary>
    public static (string? English, string? Chinese) ReadDescription(string txt)
    {
        string? en = null, zh = null;
        foreach (string raw in File.ReadLines(txt))
        {
            string line = raw.Trim();
            if (line.Length == 0) continue;
            int eq = line.IndexOf('=');
            bool translation = eq > 0 && line[..eq].Contains(".utf8", StringComparison.OrdinalIgnoreCase);
            if (!translation)
            {
                en ??= line;
            }
            else if (line.StartsWith("zh_CN.utf8=", StringComparison.Ordinal))
            {
                string z = line[(eq + 1)..].Trim();
                if (z.Length > 0) zh = z;
            }
        }
        return (en, zh);
    }
}
