// Locates the read-only ../shared folder (fixtures and data) beside the repository, from wherever the tests run.
namespace Furnace.Tests.Support;

public static class SharedPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "fixtures");
            if (Directory.Exists(candidate)) return Path.Combine(dir.FullName, "shared");
        }
        throw new DirectoryNotFoundException("shared/fixtures not found above " + AppContext.BaseDirectory);
    });

    public static string Shared => Root.Value;

    public static string Fixtures(params string[] parts) => Path.Combine([Shared, "fixtures", .. parts]);

    public static string Data(params string[] parts) => Path.Combine([Shared, "data", .. parts]);

    /// <summary>Real COCO photos (evaluation data: use for checks, never for training or tuning).</summary>
    public static string[] CocoPhotos(string split = "val2017") =>
        Directory.GetFiles(Path.Combine(Shared, "data", "coco-mini", split), "*.jpg").Order(StringComparer.Ordinal).ToArray();
}
