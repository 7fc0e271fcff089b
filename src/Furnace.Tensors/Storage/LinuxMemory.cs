// madvise(2) to drop mapped checkpoint pages that were copied elsewhere (MADV_DONTNEED). Advisory: a failure or
// another OS only costs memory, so the result is ignored. (MADV_HUGEPAGE on the repacked buffers was tried: with
// this machine's THP defrag=madvise every 2 MiB fault compacts memory directly and loading got several times slower.)
using System.Runtime.InteropServices;

namespace Furnace.Tensors;

internal static unsafe partial class LinuxMemory
{
    public const int DontNeed = 4;  // linux/mman-common.h MADV_DONTNEED
    public static void Advise(void* addr, long length, int advice)
    {
        if (OperatingSystem.IsLinux() && length > 0) _ = madvise(addr, (nuint)length, advice);
    }

    [LibraryImport("libc")]
    private static partial int madvise(void* addr, nuint length, int advice);
}
