// What `furnace data build` asks of a builder: where to write, where packages are cached, the image size and how
// many images (Limit null = all), plus sinks for progress lines and (done, total) counts.
namespace Furnace.Data.Builders;

/// <param name="OutDir">Dataset folder to create (built in OutDir.tmp, renamed at the end).</param>
/// <param name="Cache">Downloaded and unpacked packages.</param>
/// <param name="Size">Side of the square output images, pixels.</param>
/// <param name="Limit">At most this many images (spread evenly over the source so a small build still covers it).</param>
/// <param name="Force">Replace an existing OutDir.</param>
/// <param name="Seed">Random seed of the builders that draw (scenes).</param>
public sealed record DatasetBuildRequest(
    string OutDir,
    PackageCache Cache,
    int Size = 224,
    int? Limit = null,
    bool Force = false,
    int Seed = 1)
{
    /// <summary>Progress messages (stderr in the CLI).</summary>
    public Action<string> Log { get; init; } = _ => { };

    /// <summary>(done, total) as images are written.</summary>
    public Action<int, int> Progress { get; init; } = (_, _) => { };

    /// <summary>Only download and count what would be built (images, how many with Chinese); write nothing.</summary>
    public bool DryRun { get; init; }

    /// <summary>scenes: at most this many objects (<see cref="SceneVocabulary.Choose"/>); null = every countable one.</summary>
    public int? Objects { get; init; }

    /// <summary>Worker threads for rasterising (each SVG is one rsvg-convert process).</summary>
    public int Threads { get; init; } = Environment.ProcessorCount;
}
