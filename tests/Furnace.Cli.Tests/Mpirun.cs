// Runs the built `furnace` CLI under Open MPI's mpirun (Debian's openmpi-bin; scripts/test.sh installs it) with N
// ranks on this machine: --oversubscribe (CI has fewer cores than ranks), allowed as root, shared memory without the
// single-copy mechanism containers often forbid. Extra environment variables go to every rank (-x).
using System.Diagnostics;

namespace Furnace.Cli.Tests;

public static class Mpirun
{
    public static ProcessResult Run(int ranks, IReadOnlyDictionary<string, string>? env, params string[] args)
    {
        var psi = new ProcessStartInfo("mpirun")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        psi.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        psi.Environment["OMPI_MCA_btl_vader_single_copy_mechanism"] = "none";
        psi.Environment["OMPI_MCA_rmaps_base_oversubscribe"] = "1";
        foreach (var (k, v) in env ?? new Dictionary<string, string>()) psi.Environment[k] = v;
        foreach (string a in new[] { "--oversubscribe", "--bind-to", "none", "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture) }) psi.ArgumentList.Add(a);
        foreach (string k in (env ?? new Dictionary<string, string>()).Keys)
        {
            psi.ArgumentList.Add("-x");
            psi.ArgumentList.Add(k);
        }
        psi.ArgumentList.Add("dotnet");
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Furnace.Cli.dll"));
        foreach (string a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(240_000))
        {
            p.Kill(true);
            throw new TimeoutException($"mpirun -np {ranks} furnace {string.Join(' ', args)} ran over 240 s");
        }
        return new ProcessResult(p.ExitCode, stdout.Result, stderr.Result);
    }

    public static ProcessResult Run(int ranks, params string[] args) => Run(ranks, null, args);
}
