// The group of processes one data-parallel run spans: its rank and size and the collectives the trainer and the
// evaluator need. A single process is a group of one (SingleProcess), so code written against this runs unchanged
// without a launcher; under mpirun it is MpiCommunicator. Every collective is called by every rank in the same
// order; `what` names it in the error a rank raises when the others stop answering (a dead or hung rank).
namespace Furnace.Distributed;

public interface ICommunicator : IDisposable
{
    int Rank { get; }

    int Size { get; }

    /// <summary>Sums count floats of data across the ranks, in place. The sum is the same bits on every rank.</summary>
    void SumInPlace(float[] data, int count, string what);

    /// <summary>Sums doubles across the ranks, in place (exact for counts below 2^53).</summary>
    void SumInPlace(double[] data, string what);

    /// <summary>Every rank's buffer (any length, empty allowed), indexed by rank, on every rank.</summary>
    byte[][] AllGather(byte[] mine, string what);

    /// <summary>Rank 0's buffer on every rank (the others pass anything, e.g. null).</summary>
    byte[] Broadcast(byte[]? fromRoot, string what);

    void Barrier(string what);

    /// <summary>Ends every rank of the job at once (the launcher reports it), with this exit code.</summary>
    void Abort(int exitCode);
}
