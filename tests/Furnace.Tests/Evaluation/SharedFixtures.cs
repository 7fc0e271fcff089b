// Locates ../shared/fixtures (the repository root's sibling) by walking up from the test binaries, so the
// tests run both in a worktree under /work and in a CI clone placed beside shared/.
namespace Furnace.Tests.Evaluation;

internal static class SharedFixtures
{
    private static readonly Lazy<string> Root = new(FindRoot);

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root.Value, .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = System.IO.Path.Combine(dir.FullName, "shared", "fixtures");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"no shared/fixtures above {AppContext.BaseDirectory}");
    }
}
