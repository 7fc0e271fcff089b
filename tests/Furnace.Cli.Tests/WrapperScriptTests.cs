// The checkout's `./furnace` wrapper: on a first run it builds the CLI and prints one line, not MSBuild's log; the
// log appears only when the build fails. The script is run from a scratch copy of the repository layout with a
// stand-in `dotnet` first on PATH (it prints a restore/build log and writes the apphost), so the test is fast and
// checks the script's own behaviour; the real build is what every other CLI test runs.
using System.Diagnostics;

namespace Furnace.Cli.Tests;

[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // a bash script
public sealed class WrapperScriptTests
{
    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "furnace")) && File.Exists(Path.Combine(dir.FullName, "Furnace.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("the repository root (furnace, Furnace.sln) is not above " + AppContext.BaseDirectory);
    }

    // a copy of ./furnace in root, one source file, and a fake dotnet that logs like MSBuild and builds (or fails)
    private static (string Stdout, string Stderr, int ExitCode) RunWrapper(string root, bool buildSucceeds)
    {
        File.Copy(Path.Combine(RepoRoot(), "furnace"), Path.Combine(root, "furnace"), overwrite: true);
        Directory.CreateDirectory(Path.Combine(root, "src", "Furnace.Cli"));
        foreach (string f in (string[])["src/Furnace.Cli/Program.cs", "Directory.Build.props", "Directory.Packages.props"])
            if (!File.Exists(Path.Combine(root, f))) File.WriteAllText(Path.Combine(root, f), "\n");
        string bin = Path.Combine(root, "fakebin");
        Directory.CreateDirectory(bin);
        string outDir = Path.Combine(root, "src", "Furnace.Cli", "bin", "Release", "net10.0");
        File.WriteAllText(Path.Combine(bin, "dotnet"), $"""
            #!/usr/bin/env bash
            echo "  Determining projects to restore..."
            echo "warning NU1603: some package was not found"
            echo "  Furnace.Cli -> {outDir}/Furnace.Cli.dll"
            {(buildSucceeds ? "" : "echo 'Program.cs(1,1): error CS1002: ; expected'; exit 1")}
            mkdir -p '{outDir}'
            touch '{outDir}/Furnace.Cli.dll'
            printf '#!/usr/bin/env bash\necho "ran with $*"\n' > '{outDir}/furnace'
            chmod +x '{outDir}/furnace'
            """.Replace("\r", ""));
        File.SetUnixFileMode(Path.Combine(bin, "dotnet"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var psi = new ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(root, "furnace"));
        psi.ArgumentList.Add("caption");
        psi.ArgumentList.Add("x.png");
        psi.Environment["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
        using var p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string stdout = p.StandardOutput.ReadToEnd();
        Assert.True(p.WaitForExit(60_000));
        return (stdout, err.Result, p.ExitCode);
    }

    [Fact]
    public void Wrapper_FirstRunBuildSucceeds_PrintsOneLineThenRuns()
    {
        using var dir = new TempDir();
        var r = RunWrapper(dir.Path, buildSucceeds: true);
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("building furnace (first run, about a minute)…\n", r.Stderr);
        Assert.Equal("ran with caption x.png\n", r.Stdout);

        // built and nothing changed since: no line at all
        var again = RunWrapper(dir.Path, buildSucceeds: true);
        Assert.Equal("", again.Stderr);
    }

    [Fact]
    public void Wrapper_BuildFails_ShowsLogAndExitsNonZero()
    {
        using var dir = new TempDir();
        var r = RunWrapper(dir.Path, buildSucceeds: false);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("error CS1002", r.Stderr);
        Assert.EndsWith("furnace: error: the build failed (log above)\n", r.Stderr);
        Assert.Equal("", r.Stdout);
    }
}
