// Runs a verb on the ranks of an MPI job when an MPI launcher started this process (MpiLaunch), else on a single
// process exactly as before. Under MPI a user error is printed with the rank that raised it, and a failed rank ends
// the whole job (MPI_Abort) so that no other rank is left waiting in a collective; success finalizes MPI.
using Furnace.Distributed;

namespace Furnace.Cli.Commands;

internal static class DistributedCli
{
    public static int Run(Func<ICommunicator, int> body)
    {
        if (MpiLaunch.Detect() is null) return Cli.Run(() => body(SingleProcess.Instance));
        MpiCommunicator comm;
        try
        {
            comm = MpiCommunicator.Start();
        }
        catch (FurnaceException e)
        {
            return Cli.Fail(e.Message);
        }
        int rc;
        try
        {
            rc = Cli.Run(() =>
            {
                try
                {
                    return body(comm);
                }
                catch (FurnaceException e) when (e is not RankFailureException && comm.Size > 1)
                {
                    throw new FurnaceException($"rank {comm.Rank} of {comm.Size}: {e.Message}", e);
                }
            });
        }
        catch (Exception e)
        {
            // a bug, not a user error: its stack trace, then the job ends (no rank may be left waiting)
            Console.Error.WriteLine($"furnace: rank {comm.Rank} of {comm.Size} failed, ending the job: {e}");
            comm.Abort(70);
            throw;
        }
        if (rc != 0) comm.Abort(rc);
        comm.Dispose();
        return rc;
    }
}
