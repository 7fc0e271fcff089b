// The side-by-side harnesses' child processes: each engine runs in its own process and prints one JSON line with
// per-rep figures ("<figure>_reps") and "other_cpu_pct" (src/Furnace/Benchmarking/Reps.cs, or a peer script that
// writes the same fields); the harness alternates them, keeps every line (JSONL) and takes medians over every
// timed rep of an engine. Linked into Furnace.Bench.Vision and Furnace.Bench.Training.
using System.Diagnostics;
using System.Text.Json;

internal static class ChildJson
{
    /// <summary>Runs exe with the arguments (and extra environment variables); returns its last JSON line, or null with the error printed when it failed.</summary>
    public static JsonElement? Run(string exe, IEnumerable<string> arguments, IReadOnlyDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in arguments) psi.ArgumentList.Add(a);
        if (env != null) foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string? line = stdout.Split('\n').LastOrDefault(l => l.TrimStart().StartsWith('{'));
        if (p.ExitCode != 0 || line == null)
        {
            Console.Error.WriteLine($"{exe} {string.Join(' ', psi.ArgumentList)} failed ({p.ExitCode}): {err.Result.Trim()}");
            return null;
        }
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    /// <summary>The median (upper, for an even count) of a figure over every timed rep of every run; NaN without runs.</summary>
    public static double Median(IReadOnlyList<JsonElement> runs, string figure)
    {
        double[] v = runs.SelectMany(r => r.GetProperty(figure + "_reps").EnumerateArray().Select(e => e.GetDouble())).Order().ToArray();
        return v.Length == 0 ? double.NaN : v[v.Length / 2];
    }

    /// <summary>The largest share (percent) other processes took before or during any rep of the runs.</summary>
    public static double WorstShare(IEnumerable<JsonElement> runs) => runs.Select(r => r.GetProperty("other_cpu_pct").GetDouble()).DefaultIfEmpty(double.NaN).Max();

    /// <summary>Appends one run's line to a JSONL file, tagged with what the harness knows about it.</summary>
    public static void Append(string? jsonl, JsonElement run, IReadOnlyDictionary<string, object> tags)
    {
        if (jsonl == null) return;
        var line = new Dictionary<string, object>(tags);
        foreach (var p in run.EnumerateObject()) line.TryAdd(p.Name, p.Value);
        File.AppendAllText(jsonl, JsonSerializer.Serialize(line) + "\n");
    }

    /// <summary>NAME=VALUE;NAME=VALUE (bench/torch-env.sh's FURNACE_TORCH_ENV) as a dictionary.</summary>
    public static Dictionary<string, string> Environment(string? spec) =>
        (spec ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2)).Where(kv => kv.Length == 2).ToDictionary(kv => kv[0], kv => kv[1]);

    /// <summary>"12.3" or "—" for a missing figure.</summary>
    public static string F(double v, string format = "F1") => double.IsNaN(v) ? "—" : v.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
}
