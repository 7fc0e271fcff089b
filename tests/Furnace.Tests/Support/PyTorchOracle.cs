// Runs the PyTorch reference scripts of tests/Furnace.Tests/Oracles with Debian's /usr/bin/python3 (which owns the
// python3-torch and python3-numpy packages; a plain `python3` on PATH may be another interpreter). A missing torch
// fails the test with the command that installs it, never skips it.
using System.Diagnostics;

namespace Furnace.Tests.Support;

public static class PyTorchOracle
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> Missing = new(() =>
    {
        if (!File.Exists(Python)) return $"{Python} not found: install Debian's python3-torch and python3-numpy (scripts/test.sh does)";
        var (code, _, err) = Exec("-c \"import torch, numpy\"", TimeSpan.FromSeconds(60));
        return code == 0 ? null : $"PyTorch is missing for {Python} (apt-get install python3-torch python3-numpy; scripts/test.sh does): {err.Trim()}";
    });

    /// <summary>Runs Oracles/{script} with the arguments; fails the test on a missing torch or a non-zero exit.</summary>
    public static void Run(string script, params string[] args)
    {
        if (Missing.Value is { } why) Assert.Fail(why);
        string path = Path.Combine(AppContext.BaseDirectory, "Oracles", script);
        Assert.True(File.Exists(path), $"oracle script {path} is not in the test output");
        var (code, output, err) = Exec(string.Join(' ', new[] { path }.Concat(args).Select(a => "\"" + a + "\"")), TimeSpan.FromSeconds(120));
        Assert.True(code == 0, $"{script} failed with exit code {code}:\n{output}\n{err}");
    }

    private static (int Code, string Out, string Err) Exec(string arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(Python, arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["OMP_NUM_THREADS"] = "1";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            return (-1, stdout.Result, "timed out");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
