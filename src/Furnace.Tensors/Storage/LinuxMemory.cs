// madvise(2) for the two places that steer the kernel's paging: dropping mapped checkpoint pages that were copied
// (MADV_DONTNEED) and asking for transparent huge pages on large weight buffers (MADV_HUGEPAGE: 512x fewer page
// faults while filling them, fewer TLB misses while streaming them). Advisory: failures and other OSes only cost
// memory or speed, so results are ignored.
using System.Runtime.InteropServices;

namespace Furnace.Tensors;

internal static unsafe partial class LinuxMemory
{
    public const int DontNeed = 4;  // linux/mman-common.h MADV_DONTNEED
    public const int HugePage = 14; // MADV_HUGEPAGE

    public const long HugePageBytes = 2 << 20;

    public static void Advise(void* addr, long length, int advice)
    {
        if (OperatingSystem.IsLinux() && length > 0) _ = madvise(addr, (nuint)length, advice);
    }

    [LibraryImport("libc")]
    private static partial int madvise(void* addr, nuint length, int advice);
}
