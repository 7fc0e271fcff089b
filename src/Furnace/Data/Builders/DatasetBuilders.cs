// The builders `furnace data build NAME` knows, by name.
namespace Furnace.Data.Builders;

public static class DatasetBuilders
{
    public static IReadOnlyList<IDatasetBuilder> All { get; } =
    [
        new OpenMojiBuilder(),
        new EmojiGoogleBuilder(),
        new MdiBuilder(),
        new FlagsBuilder(),
        new TuxPaintBuilder(),
        new OpenClipartBuilder(),
        new ScenesBuilder(),
    ];

    public static IDatasetBuilder Get(string name) =>
        All.FirstOrDefault(b => b.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
        ?? throw new FurnaceException($"unknown dataset '{name}' (known: {string.Join(", ", All.Select(b => b.Name))})");
}
