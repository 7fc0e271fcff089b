// Whether this process was started by an MPI launcher, from the environment the launcher sets: Open MPI's mpirun
// sets OMPI_COMM_WORLD_RANK / OMPI_COMM_WORLD_SIZE, a PMIx launcher (srun --mpi=pmix, prterun) PMIX_RANK (the size
// then comes from MPI itself). Nothing set: a plain process, and nothing about the run changes.
using System.Collections;
using System.Globalization;

namespace Furnace.Distributed;

public sealed record MpiLaunch(int Rank, int? Size)
{
    /// <summary>The launch this process's environment describes, or null when no launcher started it.</summary>
    public static MpiLaunch? Detect() => Detect(Environment.GetEnvironmentVariables());

    public static MpiLaunch? Detect(IDictionary environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        string? Get(string key) => environment.Contains(key) ? environment[key] as string : null;
        if (Get("OMPI_COMM_WORLD_RANK") is { } ompi)
            return new MpiLaunch(Parse("OMPI_COMM_WORLD_RANK", ompi), Get("OMPI_COMM_WORLD_SIZE") is { } size ? Parse("OMPI_COMM_WORLD_SIZE", size) : null);
        if (Get("PMIX_RANK") is { } pmix) return new MpiLaunch(Parse("PMIX_RANK", pmix), null);
        return null;
    }

    private static int Parse(string key, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int v) ? v
            : throw new FurnaceException($"environment variable {key}='{value}' is not a rank number (is this process started by mpirun?)");
}
