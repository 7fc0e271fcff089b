// The ranks of an mpirun job (MPI_COMM_WORLD of Open MPI, through MpiNative). Every collective is the non-blocking
// MPI-3 call, then MPI_Test polled until it completes or Timeout passes: a rank that died or hangs therefore never
// leaves the others blocked. On a timeout each waiting rank holds a roll call (a point-to-point message to every
// other rank, then a short grace period), names the ranks that did not answer, and throws RankFailureException; the
// CLI then ends the job (MPI_Abort). Errors are returned, not fatal (MPI_ERRORS_RETURN), so a broken connection to a
// killed rank becomes the same exception. Call from one thread only.
using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;

namespace Furnace.Distributed;

public sealed class MpiCommunicator : ICommunicator
{
    public const string TimeoutVariable = "FURNACE_MPI_TIMEOUT";
    public const string ReductionVariable = "FURNACE_MPI_REDUCE";
    private const int RollCallTag = 0x7F17;
    private static MpiCommunicator? _instance;
    private float[] _gathered = [];
    private bool _finalized;

    private MpiCommunicator(int rank, int size, TimeSpan timeout, MpiReduction reduction)
    {
        Rank = rank;
        Size = size;
        Timeout = timeout;
        Reduction = reduction;
    }

    public int Rank { get; }

    public int Size { get; }

    /// <summary>How long a collective may wait for the other ranks before the run is declared failed.</summary>
    public TimeSpan Timeout { get; }

    public MpiReduction Reduction { get; set; }

    /// <summary>MPI_Init (once per process) with the timeout and reduction from FURNACE_MPI_TIMEOUT (seconds, default
    /// 600) and FURNACE_MPI_REDUCE (ordered | allreduce, default ordered).</summary>
    public static MpiCommunicator Start()
    {
        if (_instance != null) return _instance;
        double seconds = 600;
        if (Environment.GetEnvironmentVariable(TimeoutVariable) is { Length: > 0 } t &&
            (!double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out seconds) || !(seconds > 0)))
            throw new FurnaceException($"environment variable {TimeoutVariable}='{t}' must be a number of seconds > 0");
        var reduction = Environment.GetEnvironmentVariable(ReductionVariable) switch
        {
            null or "" or "ordered" => MpiReduction.Ordered,
            "allreduce" => MpiReduction.Allreduce,
            var other => throw new FurnaceException($"environment variable {ReductionVariable}='{other}' must be ordered or allreduce"),
        };
        MpiNative.Load();
        Check(MpiNative.MPI_Initialized(out int initialized), "MPI_Initialized");
        if (initialized == 0) Check(MpiNative.MPI_Init(IntPtr.Zero, IntPtr.Zero), "MPI_Init");
        Check(MpiNative.MPI_Comm_set_errhandler(MpiNative.CommWorld, MpiNative.ErrorsReturn), "MPI_Comm_set_errhandler");
        Check(MpiNative.MPI_Comm_rank(MpiNative.CommWorld, out int rank), "MPI_Comm_rank");
        Check(MpiNative.MPI_Comm_size(MpiNative.CommWorld, out int size), "MPI_Comm_size");
        return _instance = new MpiCommunicator(rank, size, TimeSpan.FromSeconds(seconds), reduction);
    }

    public void SumInPlace(float[] data, int count, string what)
    {
        ArgumentNullException.ThrowIfNull(data);
        if ((uint)count > (uint)data.Length) throw new ArgumentOutOfRangeException(nameof(count));
        if (count == 0) return;
        if (Reduction == MpiReduction.Allreduce)
        {
            var pin = GCHandle.Alloc(data, GCHandleType.Pinned);
            try
            {
                Check(MpiNative.MPI_Iallreduce(MpiNative.InPlace, pin.AddrOfPinnedObject(), count, MpiNative.Float, MpiNative.Sum, MpiNative.CommWorld, out IntPtr req), what);
                Wait(ref req, what);
            }
            finally
            {
                pin.Free();
            }
            return;
        }
        long need = (long)count * Size;
        if (need > Array.MaxLength) throw new ArgumentException($"{count} floats x {Size} ranks is too much to gather at once; use smaller buckets");
        if (_gathered.Length < need) _gathered = new float[need];
        var send = GCHandle.Alloc(data, GCHandleType.Pinned);
        var recv = GCHandle.Alloc(_gathered, GCHandleType.Pinned);
        try
        {
            Check(MpiNative.MPI_Iallgather(send.AddrOfPinnedObject(), count, MpiNative.Float, recv.AddrOfPinnedObject(), count, MpiNative.Float, MpiNative.CommWorld, out IntPtr req), what);
            Wait(ref req, what);
        }
        finally
        {
            send.Free();
            recv.Free();
        }
        // rank order, element by element: ((b0 + b1) + b2) + … — the same bits on every rank
        var sum = data.AsSpan(0, count);
        _gathered.AsSpan(0, count).CopyTo(sum);
        for (int r = 1; r < Size; r++) AddInto(sum, _gathered.AsSpan(r * count, count));
    }

    public void SumInPlace(double[] data, string what)
    {
        ArgumentNullException.ThrowIfNull(data);
        if (data.Length == 0) return;
        // few values (counts, loss parts): gathered and added in rank order, so every rank holds the same bits
        var gathered = new double[data.Length * Size];
        var send = GCHandle.Alloc(data, GCHandleType.Pinned);
        var recv = GCHandle.Alloc(gathered, GCHandleType.Pinned);
        try
        {
            Check(MpiNative.MPI_Iallgather(send.AddrOfPinnedObject(), data.Length, MpiNative.Double, recv.AddrOfPinnedObject(), data.Length, MpiNative.Double, MpiNative.CommWorld, out IntPtr req), what);
            Wait(ref req, what);
        }
        finally
        {
            send.Free();
            recv.Free();
        }
        for (int i = 0; i < data.Length; i++)
        {
            double s = gathered[i];
            for (int r = 1; r < Size; r++) s += gathered[r * data.Length + i];
            data[i] = s;
        }
    }

    public byte[][] AllGather(byte[] mine, string what)
    {
        ArgumentNullException.ThrowIfNull(mine);
        var lengths = new int[Size];
        var one = new[] { mine.Length };
        var send = GCHandle.Alloc(one, GCHandleType.Pinned);
        var recv = GCHandle.Alloc(lengths, GCHandleType.Pinned);
        try
        {
            Check(MpiNative.MPI_Iallgather(send.AddrOfPinnedObject(), 1, MpiNative.Int, recv.AddrOfPinnedObject(), 1, MpiNative.Int, MpiNative.CommWorld, out IntPtr req), what);
            Wait(ref req, what);
        }
        finally
        {
            send.Free();
            recv.Free();
        }
        var displacements = new int[Size];
        long total = 0;
        for (int r = 0; r < Size; r++)
        {
            displacements[r] = (int)total;
            total += lengths[r];
            if (total > int.MaxValue) throw new FurnaceException($"{what}: {total} bytes from {Size} ranks is more than one gather can carry");
        }
        var all = new byte[Math.Max(total, 1)];
        var data = GCHandle.Alloc(mine.Length == 0 ? new byte[1] : mine, GCHandleType.Pinned);
        var into = GCHandle.Alloc(all, GCHandleType.Pinned);
        try
        {
            Check(MpiNative.MPI_Iallgatherv(data.AddrOfPinnedObject(), mine.Length, MpiNative.Byte, into.AddrOfPinnedObject(), lengths, displacements, MpiNative.Byte, MpiNative.CommWorld, out IntPtr req), what);
            Wait(ref req, what);
        }
        finally
        {
            data.Free();
            into.Free();
        }
        var result = new byte[Size][];
        for (int r = 0; r < Size; r++) result[r] = all.AsSpan(displacements[r], lengths[r]).ToArray();
        return result;
    }

    public byte[] Broadcast(byte[]? fromRoot, string what)
    {
        if (Rank == 0) ArgumentNullException.ThrowIfNull(fromRoot);
        var length = new[] { Rank == 0 ? fromRoot!.Length : 0 };
        Bcast(length, length.Length, MpiNative.Int, what);
        byte[] data = Rank == 0 ? fromRoot! : new byte[length[0]];
        if (length[0] > 0) Bcast(data, data.Length, MpiNative.Byte, what);
        return data;
    }

    public void Barrier(string what)
    {
        Check(MpiNative.MPI_Ibarrier(MpiNative.CommWorld, out IntPtr req), what);
        Wait(ref req, what);
    }

    public void Abort(int exitCode)
    {
        Console.Out.Flush();
        Console.Error.Flush();
        MpiNative.MPI_Abort(MpiNative.CommWorld, exitCode);
        Environment.Exit(exitCode); // not reached: MPI_Abort ends the process
    }

    /// <summary>MPI_Finalize: call on success only (after a failure the job is aborted instead).</summary>
    public void Dispose()
    {
        if (_finalized) return;
        _finalized = true;
        MpiNative.MPI_Finalize();
    }

    private void Bcast(Array buffer, int count, IntPtr type, string what)
    {
        var pin = GCHandle.Alloc(buffer, GCHandleType.Pinned);
        try
        {
            Check(MpiNative.MPI_Ibcast(pin.AddrOfPinnedObject(), count, type, 0, MpiNative.CommWorld, out IntPtr req), what);
            Wait(ref req, what);
        }
        finally
        {
            pin.Free();
        }
    }

    // Polls the request: spinning first (collectives of a training step take microseconds to milliseconds), then
    // sleeping 1 ms between tests, until Timeout.
    private void Wait(ref IntPtr request, string what)
    {
        long start = Stopwatch.GetTimestamp();
        for (int polls = 0; ; polls++)
        {
            int rc = MpiNative.MPI_Test(ref request, out int done, IntPtr.Zero);
            if (rc != MpiNative.Success) throw Failure(what, $"failed: {MpiNative.ErrorText(rc)}");
            if (done != 0) return;
            if (polls < 2000) Thread.Yield();
            else
            {
                if (Stopwatch.GetElapsedTime(start) > Timeout) throw Failure(what, string.Create(CultureInfo.InvariantCulture, $"did not complete within {Timeout.TotalSeconds:0.#} s"));
                Thread.Sleep(1);
            }
        }
    }

    private RankFailureException Failure(string what, string how)
    {
        string silent = SilentRanks(TimeSpan.FromSeconds(Math.Clamp(Timeout.TotalSeconds / 4, 1, 10)));
        return new RankFailureException($"rank {Rank} of {Size}: {what} {how}: {silent}");
    }

    // The roll call: every rank that gave up on a collective sends its rank to all others and waits a grace period
    // for theirs; the ranks never heard from are dead or stuck elsewhere.
    private string SilentRanks(TimeSpan grace)
    {
        var heard = new int[Size][];
        var requests = new IntPtr[Size];
        var pins = new List<GCHandle>();
        var me = new[] { Rank };
        pins.Add(GCHandle.Alloc(me, GCHandleType.Pinned));
        for (int r = 0; r < Size; r++)
        {
            if (r == Rank) continue;
            heard[r] = [-1];
            pins.Add(GCHandle.Alloc(heard[r], GCHandleType.Pinned));
            if (MpiNative.MPI_Irecv(pins[^1].AddrOfPinnedObject(), 1, MpiNative.Int, r, RollCallTag, MpiNative.CommWorld, out requests[r]) != MpiNative.Success) requests[r] = IntPtr.Zero;
            MpiNative.MPI_Isend(pins[0].AddrOfPinnedObject(), 1, MpiNative.Int, r, RollCallTag, MpiNative.CommWorld, out _);
        }
        var answered = new bool[Size];
        answered[Rank] = true;
        long start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < grace && answered.Contains(false))
        {
            for (int r = 0; r < Size; r++)
                if (!answered[r] && requests[r] != IntPtr.Zero && MpiNative.MPI_Test(ref requests[r], out int done, IntPtr.Zero) == MpiNative.Success && done != 0)
                    answered[r] = true;
            Thread.Sleep(1);
        }
        // the buffers stay pinned: the job ends after this, and an unanswered receive still owns its buffer
        var silent = Enumerable.Range(0, Size).Where(r => !answered[r]).ToArray();
        return silent.Length == 0
            ? "every rank answered a roll call, so one of them is stuck in another step (the ranks ran different code?)"
            : $"{(silent.Length == 1 ? "rank" : "ranks")} {string.Join(", ", silent)} did not answer (died or hangs)";
    }

    // sum[i] += x[i], element by element (the SIMD width does not change the bits)
    private static void AddInto(Span<float> sum, ReadOnlySpan<float> x)
    {
        int i = 0;
        for (; i <= sum.Length - Vector<float>.Count; i += Vector<float>.Count)
            (new Vector<float>(sum[i..]) + new Vector<float>(x[i..])).CopyTo(sum[i..]);
        for (; i < sum.Length; i++) sum[i] += x[i];
    }

    private static void Check(int rc, string what)
    {
        if (rc != MpiNative.Success) throw new FurnaceException($"{what}: {MpiNative.ErrorText(rc)}");
    }
}
