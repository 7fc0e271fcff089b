// How MpiCommunicator sums float buffers across ranks.
namespace Furnace.Distributed;

public enum MpiReduction
{
    /// <summary>Gather every rank's buffer and add them in rank order 0, 1, …, N−1: the same bits on every rank and in
    /// every run, whatever algorithm the MPI library picks; moves (N−1)·B bytes into each rank.</summary>
    Ordered,

    /// <summary>MPI_Allreduce (Open MPI picks ring / recursive doubling): about 2·(N−1)/N·B bytes per rank, but the
    /// order of the additions is the library's.</summary>
    Allreduce,
}
