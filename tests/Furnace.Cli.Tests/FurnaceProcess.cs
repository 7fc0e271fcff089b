// Runs the built `furnace` CLI (Furnace.Cli.dll beside the tests) as a child process.
using System.Diagnostics;

namespace Furnace.Cli.Tests;

public sealed record ProcessResult(int ExitCode, string Stdout, string Stderr);

public static class FurnaceProcess
{
    public static ProcessResult Run(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Furnace.Cli.dll"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(true);
            throw new TimeoutException("furnace " + string.Join(' ', args) + " ran over 120 s");
        }
        return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
    }
}
