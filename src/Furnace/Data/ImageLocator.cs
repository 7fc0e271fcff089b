// Finds the image a dataset names by a relative path: first beside the dataset file, then in the folders beside it
// and beside its parent (COCO keeps annotations/ and val2017/ side by side). Folders whose name appears in the
// dataset's file name are tried first (captions_val2017.json → val2017/), so a file name present in several splits
// resolves to the dataset's own split.
namespace Furnace.Data;

internal sealed class ImageLocator
{
    private readonly string[] _folders;

    public ImageLocator(string datasetPath)
    {
        string full = Path.GetFullPath(datasetPath);
        BaseDirectory = Path.GetDirectoryName(full) ?? Path.GetPathRoot(full)!;
        string stem = Path.GetFileNameWithoutExtension(full);
        var folders = new List<string> { BaseDirectory };
        folders.AddRange(Subfolders(BaseDirectory, stem));
        string? parent = Path.GetDirectoryName(BaseDirectory);
        if (parent is not null)
        {
            folders.Add(parent);
            folders.AddRange(Subfolders(parent, stem).Where(f => f != BaseDirectory));
        }
        _folders = [.. folders];
    }

    /// <summary>Absolute folder of the dataset file: where relative image paths are meant to start.</summary>
    public string BaseDirectory { get; }

    /// <summary>Absolute path of an existing file, or null.</summary>
    public string? Find(string relativeOrAbsolute)
    {
        if (Path.IsPathRooted(relativeOrAbsolute)) return File.Exists(relativeOrAbsolute) ? Path.GetFullPath(relativeOrAbsolute) : null;
        foreach (string folder in _folders)
        {
            string candidate = Path.Combine(folder, relativeOrAbsolute);
            if (File.Exists(candidate)) return Path.GetFullPath(candidate);
        }
        return null;
    }

    private static IEnumerable<string> Subfolders(string dir, string datasetStem)
    {
        string[] dirs;
        try
        {
            dirs = Directory.GetDirectories(dir);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
        return dirs
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .OrderBy(d => datasetStem.Contains(Path.GetFileName(d), StringComparison.OrdinalIgnoreCase) ? 0 : 1)
            .ThenBy(d => d, StringComparer.Ordinal);
    }
}
