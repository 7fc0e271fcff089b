// The MPI binding (src/Furnace/Distributed) in a real Open MPI job: `mpirun -np 3 furnace mpi-check` gathers every
// rank's name, broadcasts, barriers, and checks the float sum bit for bit against the rank-order sum (ordered
// reduction) or within 1e-6 (MPI_Allreduce), and that every rank holds the same bits; without a launcher the same
// command reports one process.
namespace Furnace.Cli.Tests;

public sealed class MpiCheckCliTests
{
    [Theory]
    [InlineData("ordered", "rank order, bit-exact")]
    [InlineData("allreduce", "MPI_Allreduce")]
    public void MpiCheck_ThreeRanks_EveryCollectiveChecksOut(string reduction, string expected)
    {
        var r = Mpirun.Run(3, new Dictionary<string, string> { ["FURNACE_MPI_REDUCE"] = reduction }, "mpi-check", "--max-mb", "0");
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Contains("rank 2 of 3:", r.Stdout);
        Assert.Contains($"mpi check: ok (3 ranks; gather, broadcast, barrier, float sum ({expected}), double sum)", r.Stdout);
    }

    [Fact]
    public void MpiCheck_NoLauncher_OneProcess()
    {
        var r = FurnaceProcess.Run("mpi-check", "--max-mb", "0");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("mpi check: ok (1 ranks;", r.Stdout);
    }

    [Fact]
    public void MpiCheck_BadReductionName_OneLineError()
    {
        var r = Mpirun.Run(2, new Dictionary<string, string> { ["FURNACE_MPI_REDUCE"] = "fastest" }, "mpi-check", "--max-mb", "0");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("furnace: error: environment variable FURNACE_MPI_REDUCE='fastest' must be ordered or allreduce", r.Stderr);
    }
}
