// fsync(2) of a directory, so that a rename or a new entry inside it survives a power loss (a renamed file is only
// durable once its directory is synced). Linux only; elsewhere, and if the directory cannot be opened, it is a no-op:
// the rename is still atomic, only its durability is left to the OS.
using System.Runtime.InteropServices;

namespace Furnace.Tensors;

public static partial class DirectorySync
{
    private const int ReadOnly = 0;             // O_RDONLY
    private const int Directory = 0x10000;      // O_DIRECTORY (x86-64, arm64 generic)

    public static void Flush(string path)
    {
        if (!OperatingSystem.IsLinux()) return;
        int fd = open(path, ReadOnly | Directory);
        if (fd < 0) return;
        _ = fsync(fd);
        _ = close(fd);
    }

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc")]
    private static partial int fsync(int fd);

    [LibraryImport("libc")]
    private static partial int close(int fd);
}
