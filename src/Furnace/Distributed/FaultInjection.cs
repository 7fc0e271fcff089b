// A deliberate failure for testing what a distributed run does when a rank dies or hangs:
// FURNACE_FAULT=RANK:STEP:kill ends rank RANK with SIGKILL after it completes optimiser step STEP (a crash, a lost
// node), FURNACE_FAULT=RANK:STEP:hang stops it there forever (a stuck node). Unset: nothing happens.
using System.Diagnostics;
using System.Globalization;

namespace Furnace.Distributed;

public sealed record FaultInjection(int Rank, int Step, bool Hang)
{
    public const string Variable = "FURNACE_FAULT";

    public static FaultInjection? FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v ? Parse(v) : null;

    public static FaultInjection Parse(string value)
    {
        string[] parts = value.Split(':');
        if (parts.Length == 3 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int rank) &&
            int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int step) && parts[2] is "kill" or "hang")
            return new FaultInjection(rank, step, parts[2] == "hang");
        throw new FurnaceException($"environment variable {Variable}='{value}' must be RANK:STEP:kill or RANK:STEP:hang");
    }

    /// <summary>Call after each completed step: fails here when this is the rank and step.</summary>
    public void AfterStep(int rank, int step)
    {
        if (rank != Rank || step != Step) return;
        Console.Error.WriteLine($"furnace: {Variable}: rank {rank} {(Hang ? "hangs" : "is killed")} after step {step}");
        Console.Error.Flush();
        if (Hang) Thread.Sleep(Timeout.Infinite);
        Process.GetCurrentProcess().Kill();
    }
}
