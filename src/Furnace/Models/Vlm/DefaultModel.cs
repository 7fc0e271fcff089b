// The captioner embedded in the repository (models/furnace-captioner-tiny, trained by `furnace train --recipe
// default`): what `furnace caption`, `ask` and `eval --model` use when no --model is given. The build copies
// models/ next to every binary that uses Furnace; a checkout's models/ (found upwards from the binary or the current
// folder) is the fallback.
namespace Furnace.Models.Vlm;

public static class DefaultModel
{
    public const string Name = "furnace-captioner-tiny";

    /// <summary>The default model's directory, or null when neither place holds one.</summary>
    public static string? Find()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
        {
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "models", Name);
                if (File.Exists(Path.Combine(candidate, "config.json"))) return candidate;
            }
        }
        return null;
    }

    /// <summary>The default model's directory; an error naming where it was looked for when missing.</summary>
    public static string Require() => Find()
        ?? throw new FurnaceException($"no --model given and the default model models/{Name} was not found next to the binary ({AppContext.BaseDirectory}) or above the current folder; pass --model DIR");
}
