// How much of the machine other processes used over a window: the fair-measurement gate of DESIGN.md's performance
// method ("before each rep wait until the other processes' CPU share is under 5 %, and print that share").
// Linux /proc: /proc/stat's first line gives the machine's jiffies by state (user nice system idle iowait irq
// softirq steal …); /proc/self/stat fields 14–15 (utime, stime) give this process's, all threads, in the same
// clock ticks. Other processes' share = (machine busy − own) / machine total over the window.
using System.Globalization;

namespace Furnace.Benchmarking;

public static class CpuShare
{
    /// <summary>A snapshot of the machine's busy and total jiffies and this process's jiffies.</summary>
    public readonly record struct Sample(long Busy, long Total, long Own)
    {
        /// <summary>Other processes' share of the machine in [0, 1] between an earlier sample and this one.</summary>
        public double OthersSince(Sample earlier)
        {
            long total = Total - earlier.Total;
            if (total <= 0) return 0;
            long others = Busy - earlier.Busy - (Own - earlier.Own);
            return Math.Clamp(others / (double)total, 0, 1);
        }
    }

    /// <summary>True where /proc/stat and /proc/self/stat can be read (Linux).</summary>
    public static bool Available => File.Exists("/proc/stat") && File.Exists("/proc/self/stat");

    public static Sample Now()
    {
        if (!Available) return default;
        // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
        string[] cpu = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        long total = 0, idle = 0;
        for (int i = 1; i < Math.Min(cpu.Length, 9); i++) // guest time is already inside user
        {
            long v = long.Parse(cpu[i], CultureInfo.InvariantCulture);
            total += v;
            if (i is 4 or 5) idle += v; // idle, iowait
        }
        // "pid (comm) state ppid …": the command may hold spaces, so count fields after its closing parenthesis
        string self = File.ReadAllText("/proc/self/stat");
        string[] rest = self[(self.LastIndexOf(')') + 2)..].Split(' ');
        long own = long.Parse(rest[11], CultureInfo.InvariantCulture) + long.Parse(rest[12], CultureInfo.InvariantCulture); // fields 14, 15
        return new Sample(total - idle, total, own);
    }

    /// <summary>Other processes' share of the machine over a window of the given length (this thread sleeps).</summary>
    public static double Measure(TimeSpan window)
    {
        Sample a = Now();
        Thread.Sleep(window);
        return Now().OthersSince(a);
    }

    /// <summary>
    /// Waits until other processes use less than threshold of the machine over a 250 ms window, at most maxWait;
    /// returns the last share measured (above the threshold only when maxWait ran out).
    /// </summary>
    public static double WaitForIdle(double threshold, TimeSpan maxWait)
    {
        if (!Available) return 0;
        var deadline = DateTime.UtcNow + maxWait;
        double share;
        do share = Measure(TimeSpan.FromMilliseconds(250));
        while (share >= threshold && DateTime.UtcNow < deadline);
        return share;
    }
}
