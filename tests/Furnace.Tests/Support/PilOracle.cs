// Runs Oracles/pil_oracle.py under Debian's /usr/bin/python3 (python3-pil, python3-numpy): the PIL/numpy
// reference for image decoding, resizing and HF preprocessing. Missing packages fail the test with the fix.
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Furnace.Tests.Support;

public static class PilOracle
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> Missing = new(() =>
    {
        if (!File.Exists(Python)) return $"{Python} not found";
        var (rc, _, err) = Exec(Python, "-c", "import PIL, numpy");
        return rc == 0 ? null : err.Trim().Split('\n').LastOrDefault();
    });

    public static string Script => Path.Combine(AppContext.BaseDirectory, "Oracles", "pil_oracle.py");

    /// <summary>Fails (never skips) when the oracle cannot run.</summary>
    public static void Require()
    {
        if (Missing.Value is string why)
            Assert.Fail($"PIL oracle unavailable ({why}): install Debian's python3-pil and python3-numpy (scripts/test.sh does) for {Python}");
    }

    /// <summary>Runs the jobs (JSON objects with "op", "out", …) and returns each output's (width, height).</summary>
    public static (int Width, int Height)[] Run(string workDir, IEnumerable<JsonObject> jobs)
    {
        Require();
        string jobFile = Path.Combine(workDir, $"jobs-{Guid.NewGuid():N}.json");
        File.WriteAllText(jobFile, new JsonArray(jobs.Select(j => (JsonNode)j).ToArray()).ToJsonString());
        var (rc, stdout, stderr) = Exec(Python, Script, jobFile);
        if (rc != 0) Assert.Fail($"pil_oracle.py failed ({rc}): {stderr}");
        return stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' ')).Select(p => (int.Parse(p[0]), int.Parse(p[1]))).ToArray();
    }

    public static float[] ReadFloats(string path)
    {
        byte[] b = File.ReadAllBytes(path);
        var f = new float[b.Length / 4];
        Buffer.BlockCopy(b, 0, f, 0, b.Length);
        return f;
    }

    public static JsonObject Job(string op, string src, string @out, object? extra = null)
    {
        var j = new JsonObject { ["op"] = op, ["src"] = src, ["out"] = @out };
        if (extra != null)
        {
            foreach (var kv in JsonSerializer.SerializeToNode(extra)!.AsObject().ToList())
                j[kv.Key] = kv.Value?.DeepClone();
        }
        return j;
    }

    private static (int Rc, string Stdout, string Stderr) Exec(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        return (p.ExitCode, o.Result, e.Result);
    }
}
