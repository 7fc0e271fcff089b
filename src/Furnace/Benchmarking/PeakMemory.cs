// Peak resident memory of this process, as the benchmarks and eval reports print it.
using System.Diagnostics;
using System.Globalization;

namespace Furnace.Benchmarking;

public static class PeakMemory
{
    /// <summary>VmHWM of /proc/self/status (Linux); the managed peak working set elsewhere.</summary>
    public static long RssBytes()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line.AsSpan(6).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture) * 1024;
            }
        }
        catch (IOException)
        {
        }
        return Process.GetCurrentProcess().PeakWorkingSet64;
    }
}
