// `mpirun -np N furnace mpi-check`: proves the MPI binding on the ranks of a job (gather, broadcast, barrier, the
// float and double sums checked bit for bit against the same sums done here in rank order) and measures the float sum
// of both reductions (ordered gather-and-add, MPI_Allreduce) from 4 bytes to --max-mb: latency and bandwidth, as
// docs/scaling.md quotes them. Without a launcher it reports a single process.
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Furnace.Distributed;

namespace Furnace.Cli.Commands;

internal static class MpiCheckCommand
{
    public static Command Create()
    {
        var maxMb = new Option<int>("--max-mb") { Description = "Largest buffer measured, in MiB (0: check only, no measurement)", DefaultValueFactory = _ => 16 };
        var cmd = new Command("mpi-check", "Check the MPI binding across the ranks of an mpirun job and measure the gradient sum's latency and bandwidth.\n\n" +
            "Example:\n  mpirun -np 2 furnace mpi-check --max-mb 64")
        {
            maxMb,
        };
        cmd.SetAction(r => DistributedCli.Run(comm => Run(comm, r.GetValue(maxMb))));
        return cmd;
    }

    private static int Run(ICommunicator comm, int maxMb)
    {
        int n = comm.Size, me = comm.Rank;
        var names = comm.AllGather(Encoding.UTF8.GetBytes($"{Environment.MachineName} pid {Environment.ProcessId}"), "rank gather");
        if (me == 0)
            for (int r = 0; r < n; r++) Console.WriteLine($"rank {r} of {n}: {Encoding.UTF8.GetString(names[r])}");

        byte[] root = comm.Broadcast(me == 0 ? Encoding.UTF8.GetBytes("furnace broadcast check") : null, "broadcast check");
        Require(Encoding.UTF8.GetString(root) == "furnace broadcast check", me, "broadcast");
        comm.Barrier("barrier check");

        // float sums: values whose rounding depends on the order, compared with the rank-order sum done here
        const int count = 1000;
        var data = new float[count];
        Fill(data, me);
        var expected = new float[count];
        for (int r = 0; r < n; r++)
        {
            var part = new float[count];
            Fill(part, r);
            for (int i = 0; i < count; i++) expected[i] = r == 0 ? part[i] : expected[i] + part[i];
        }
        comm.SumInPlace(data, count, "float sum check");
        bool ordered = comm is not MpiCommunicator m || m.Reduction == MpiReduction.Ordered;
        for (int i = 0; i < count; i++)
            Require(ordered ? BitConverter.SingleToInt32Bits(data[i]) == BitConverter.SingleToInt32Bits(expected[i]) : Math.Abs(data[i] - expected[i]) <= 1e-6f * Math.Abs(expected[i]), me, $"float sum [{i}]");
        var counts = new double[] { me + 1, 1 };
        comm.SumInPlace(counts, "double sum check");
        Require(counts[0] == n * (n + 1) / 2.0 && counts[1] == n, me, "double sum");
        // every rank must hold the same bits
        var digests = comm.AllGather(System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan())), "digest gather");
        for (int r = 1; r < n; r++) Require(digests[r].AsSpan().SequenceEqual(digests[0]), me, $"rank {r}'s float sum differs from rank 0's");
        if (me == 0) Console.WriteLine($"mpi check: ok ({n} ranks; gather, broadcast, barrier, float sum ({(ordered ? "rank order, bit-exact" : "MPI_Allreduce")}), double sum)");

        if (maxMb > 0 && comm is MpiCommunicator mpi) Measure(mpi, maxMb);
        return 0;
    }

    private static void Fill(float[] a, int rank)
    {
        var rng = new Random(1000 + rank);
        for (int i = 0; i < a.Length; i++) a[i] = (float)((rng.NextDouble() - 0.5) * Math.Pow(10, rng.Next(-3, 4)));
    }

    private static void Require(bool ok, int rank, string what)
    {
        if (!ok) throw new FurnaceException($"mpi check failed on rank {rank}: {what}");
    }

    // time per sum (median of reps after a warm-up), for 4 B … maxMb MiB, both reductions
    private static void Measure(MpiCommunicator comm, int maxMb)
    {
        var before = comm.Reduction;
        int n = comm.Size;
        if (comm.Rank == 0)
            Console.WriteLine("| reduction | bytes | time (us, median) | algorithm bandwidth (GB/s) | ring-equivalent bus bandwidth 2(N-1)/N (GB/s) |\n|---|---:|---:|---:|---:|");
        foreach (var mode in new[] { MpiReduction.Ordered, MpiReduction.Allreduce })
        {
            comm.Reduction = mode;
            for (long bytes = 4; bytes <= (long)maxMb << 20; bytes *= bytes < 4096 ? 16 : 4)
            {
                int floats = (int)(bytes / 4);
                var buf = new float[floats];
                int reps = bytes <= 1 << 16 ? 50 : bytes <= 1 << 22 ? 10 : 3;
                var times = new double[reps];
                comm.SumInPlace(buf, floats, "measure warm-up");
                for (int k = 0; k < reps; k++)
                {
                    comm.Barrier("measure barrier");
                    long t0 = Stopwatch.GetTimestamp();
                    comm.SumInPlace(buf, floats, "measure");
                    times[k] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
                }
                // the slowest rank's median is the step's
                var all = new double[] { Median(times) };
                var gathered = comm.AllGather(BitConverter.GetBytes(all[0]), "measure gather");
                double t = gathered.Max(b => BitConverter.ToDouble(b));
                if (comm.Rank == 0)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"| {mode.ToString().ToLowerInvariant()} | {bytes} | {t * 1e6:F1} | {bytes / t / 1e9:F3} | {2.0 * (n - 1) / n * bytes / t / 1e9:F3} |"));
            }
        }
        comm.Reduction = before;
    }

    private static double Median(double[] v)
    {
        var s = v.Order().ToArray();
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
