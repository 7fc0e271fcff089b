// The checkpoint directory of a run: DIR/step-00000100/ (one per checkpoint) and DIR/latest, a one-line file naming
// the newest complete one. A checkpoint is written under a temporary name (.tmp-step-…), every file flushed to disk,
// the directory synced, then renamed into place; only then is `latest` replaced (atomically: temp file + rename).
// A run killed at any moment therefore leaves `latest` naming a complete checkpoint (or no `latest` at all); leftover
// temporary directories are removed by the next save. The newest Keep checkpoints are kept, older ones deleted.
using System.Globalization;
using Furnace.IO;
using Furnace.Tensors;

namespace Furnace.Training;

public sealed class CheckpointStore
{
    public const string LatestFile = "latest";
    private const string Prefix = "step-";
    private const string TempPrefix = ".tmp-";

    public CheckpointStore(string directory, int keep = 2)
    {
        if (keep < 1) throw new FurnaceException($"checkpoint keep {keep} must be at least 1");
        Directory = Path.GetFullPath(directory);
        Keep = keep;
    }

    public string Directory { get; }

    public int Keep { get; }

    public static string NameOf(int step) => Prefix + step.ToString("D8", CultureInfo.InvariantCulture);

    /// <summary>The directory `latest` names, or null when there is no complete checkpoint yet.</summary>
    public string? Latest()
    {
        string pointer = Path.Combine(Directory, LatestFile);
        if (!File.Exists(pointer)) return null;
        string name = File.ReadAllText(pointer).Trim();
        if (name.Length == 0 || name.Contains('/') || name.Contains('\\') || name.StartsWith('.'))
            throw new FurnaceException($"{pointer}: does not name a checkpoint directory ('{name}')");
        string dir = Path.Combine(Directory, name);
        if (!System.IO.Directory.Exists(dir)) throw new FurnaceException($"{pointer}: names {name}, which does not exist");
        return dir;
    }

    /// <summary>Complete checkpoint directories, oldest first.</summary>
    public IReadOnlyList<string> List() => !System.IO.Directory.Exists(Directory) ? [] :
        System.IO.Directory.GetDirectories(Directory, Prefix + "*").Select(d => (Dir: d, Step: StepOf(d))).Where(p => p.Step >= 0)
            .OrderBy(p => p.Step).Select(p => p.Dir).ToList();

    /// <summary>Writes a checkpoint for step (write fills the given empty directory), makes it the latest, prunes old ones.</summary>
    public string Save(int step, Action<string> write)
    {
        System.IO.Directory.CreateDirectory(Directory);
        RemoveTemporaries();
        string name = NameOf(step), final = Path.Combine(Directory, name);
        string tmp = Path.Combine(Directory, $"{TempPrefix}{name}.{Environment.ProcessId}.{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(tmp);
        try
        {
            write(tmp);
            DirectorySync.Flush(tmp);
            if (System.IO.Directory.Exists(final))
            {
                // the same step again (a rerun after a resume from an older checkpoint): replace it, unless it is the
                // latest, which must stay complete until `latest` moves
                if (string.Equals(Latest(), final, StringComparison.Ordinal))
                {
                    string old = Path.Combine(Directory, $"{TempPrefix}old-{name}.{Guid.NewGuid():N}");
                    System.IO.Directory.Move(final, old);
                }
                else System.IO.Directory.Delete(final, recursive: true);
            }
            System.IO.Directory.Move(tmp, final);
            DirectorySync.Flush(Directory);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
        AtomicFile.Write(Path.Combine(Directory, LatestFile), s => s.Write(System.Text.Encoding.UTF8.GetBytes(name + "\n")));
        DirectorySync.Flush(Directory);
        Prune(final);
        RemoveTemporaries();
        return final;
    }

    private void Prune(string latest)
    {
        var all = List();
        for (int i = 0; i < all.Count - Keep; i++)
            if (!string.Equals(all[i], latest, StringComparison.Ordinal)) TryDelete(all[i]);
    }

    private void RemoveTemporaries()
    {
        foreach (string d in System.IO.Directory.GetDirectories(Directory, TempPrefix + "*")) TryDelete(d);
    }

    private static int StepOf(string dir)
    {
        string name = Path.GetFileName(dir);
        return name.StartsWith(Prefix, StringComparison.Ordinal) && int.TryParse(name.AsSpan(Prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int s) ? s : -1;
    }

    private static void TryDelete(string dir)
    {
        try
        {
            if (System.IO.Directory.Exists(dir)) System.IO.Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
