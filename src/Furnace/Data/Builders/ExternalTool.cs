// Runs the package managers and rsvg-convert: argument lists (no shell), stdout as bytes, stderr as text, a time
// limit, and a FurnaceException naming the tool when it is missing, fails or hangs.
using System.ComponentModel;
using System.Diagnostics;

namespace Furnace.Data.Builders;

internal static class ExternalTool
{
    public sealed record Result(int ExitCode, byte[] Stdout, string Stderr);

    public static Result Run(string tool, IEnumerable<string> args, string? workingDirectory = null, TimeSpan? timeout = null,
        string? missingHint = null)
    {
        var psi = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string a in args) psi.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw new FurnaceException($"{tool}: could not start");
        }
        catch (Win32Exception e)
        {
            throw new FurnaceException($"{tool}: not found or not runnable ({e.Message}){(missingHint is null ? "" : "; " + missingHint)}");
        }
        using (process)
        {
            process.StandardInput.Close();
            using var stdout = new MemoryStream();
            var copy = process.StandardOutput.BaseStream.CopyToAsync(stdout);
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout ?? TimeSpan.FromMinutes(10)))
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                }
                throw new FurnaceException($"{tool} {string.Join(' ', psi.ArgumentList)}: no answer within {(timeout ?? TimeSpan.FromMinutes(10)).TotalSeconds:F0} s");
            }
            copy.Wait();
            return new Result(process.ExitCode, stdout.ToArray(), stderr.Result);
        }
    }

    /// <summary>Runs and fails with the tool's own last stderr line when it exits non-zero.</summary>
    public static Result Check(string tool, IEnumerable<string> args, string? workingDirectory = null, TimeSpan? timeout = null,
        string? missingHint = null)
    {
        var argList = args.ToArray();
        var r = Run(tool, argList, workingDirectory, timeout, missingHint);
        if (r.ExitCode != 0)
        {
            string last = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
            throw new FurnaceException($"{tool} {string.Join(' ', argList)} failed (exit {r.ExitCode}){(last.Length > 0 ? ": " + last : "")}");
        }
        return r;
    }

    /// <summary>The full path of an executable on PATH, or null.</summary>
    public static string? OnPath(string name)
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
