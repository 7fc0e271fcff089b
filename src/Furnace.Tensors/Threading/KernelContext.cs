// Per-engine execution state for kernels: the worker threads and scratch buffers, created once and reused,
// so that a decode step allocates nothing.
// Mirrors ggml's CPU thread pool (ggml-cpu.c ggml_graph_compute_thread): persistent workers that spin on a
// generation counter between parallel regions, then park on a monitor after a while without work. The calling
// thread is worker 0 and does its share; chunks of [0, n) are handed out through one atomic counter.
// A context serves one calling thread at a time (like a RunState); a region started from inside a region runs inline.
// Spinning assumes the workers own their cores: on an oversubscribed machine a region waits for a descheduled
// worker's next time slice, exactly as ggml's pool does.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Furnace.Tensors;

/// <summary>A parallel-for body as a struct, so that dispatch allocates nothing: Execute(start, end, thread) covers [start, end).</summary>
public interface IParallelJob
{
    void Execute(int start, int end, int thread);
}

public sealed unsafe class KernelContext : IDisposable
{
    // How long an idle worker spins before parking; a decode step issues a region every few microseconds.
    private static readonly long SpinTicks = Stopwatch.Frequency / 2000; // 0.5 ms

    private readonly Thread[] _workers;
    private readonly object _park = new();
    private Shared* _s; // hot dispatch state, one cache line per writer
    private ExceptionDispatchSlot _error;
    private bool _inRegion;

    // scratch: one growable aligned buffer per named slot (see Slot)
    private readonly void*[] _scratch = new void*[(int)ScratchSlot.Count];
    private readonly nuint[] _scratchBytes = new nuint[(int)ScratchSlot.Count];

    public KernelContext(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be >= 1");
        Threads = threads;
        _s = (Shared*)NativeMemory.AlignedAlloc((nuint)sizeof(Shared), 64);
        *_s = default;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            int tid = i + 1;
            _workers[i] = new Thread(() => WorkerLoop(tid)) { IsBackground = true, Name = $"furnace-kernel-{tid}" };
            _workers[i].Start();
        }
    }

    public int Threads { get; }

    /// <summary>Runs body(start, end, state) over contiguous chunks of [0, n) on all threads; returns when all are done.</summary>
    public void ParallelFor(int n, delegate*<int, int, void*, void> body, void* state, int grain = 1)
    {
        var job = new FnJob { Body = body, State = state };
        Run(ref job, n, grain);
    }

    /// <summary>Runs job.Execute over chunks of [0, n) (multiples of grain) on all threads; zero allocation.</summary>
    public void Run<TJob>(ref TJob job, int n, int grain = 1) where TJob : struct, IParallelJob
    {
        if (n <= 0) return;
        grain = Math.Max(1, grain);
        // About four chunks per thread balances a noisy machine without much counter traffic.
        int chunk = Math.Max(grain, (n + Threads * 4 - 1) / (Threads * 4));
        chunk = (chunk + grain - 1) / grain * grain;
        if (Threads == 1 || n <= chunk || _inRegion)
        {
            job.Execute(0, n, 0);
            return;
        }
        _inRegion = true;
        try
        {
            Shared* s = _s;
            // Seqlock: an odd generation means "fields being written". A late worker from an earlier region either
            // registered in Active before this write (we wait for it) or sees the odd value and backs off.
            Interlocked.Increment(ref s->Generation);
            var sw = new SpinWait();
            while (Volatile.Read(ref s->Active) != 0) sw.SpinOnce(-1);
            s->Fn = &Invoke<TJob>;
            s->Job = Unsafe.AsPointer(ref job); // job lives on the caller's stack, which waits below
            s->N = n;
            s->Chunk = chunk;
            s->Next = 0;
            s->Done = 0;
            Interlocked.Increment(ref s->Generation); // even again: publishes the fields above
            if (Volatile.Read(ref s->Sleepers) > 0)
            {
                lock (_park) Monitor.PulseAll(_park);
            }
            Work(0);
            // Wait for the claimed chunks only: a worker that never got scheduled is not waited for.
            int chunks = (n + chunk - 1) / chunk;
            sw = new SpinWait();
            while (Volatile.Read(ref s->Done) < chunks) sw.SpinOnce(-1);
        }
        finally
        {
            _inRegion = false;
        }
        _error.ThrowIfSet();
    }

    private static void Invoke<TJob>(void* job, int start, int end, int thread) where TJob : struct, IParallelJob
        => Unsafe.AsRef<TJob>(job).Execute(start, end, thread);

    private void Work(int tid)
    {
        Shared* s = _s;
        int n = s->N, chunk = s->Chunk;
        while (true)
        {
            int start = Interlocked.Add(ref s->Next, chunk) - chunk;
            if (start >= n) break;
            try
            {
                s->Fn(s->Job, start, Math.Min(n, start + chunk), tid);
            }
            catch (Exception e)
            {
                _error.Set(e);
            }
            Interlocked.Increment(ref s->Done);
        }
    }

    private void WorkerLoop(int tid)
    {
        Shared* s = _s;
        long seen = 0;
        while (true)
        {
            long g = Volatile.Read(ref s->Generation);
            if (g != seen && (g & 1) == 0)
            {
                seen = g;
                if (Volatile.Read(ref s->Stop) != 0) return;
                Interlocked.Increment(ref s->Active); // full fence; pairs with the odd Generation write in Run
                if (Volatile.Read(ref s->Generation) == g) Work(tid);
                Interlocked.Decrement(ref s->Active);
                continue;
            }
            if (g != seen) { Thread.SpinWait(1); continue; } // fields being written
            long until = Stopwatch.GetTimestamp() + SpinTicks;
            bool found = false;
            while (Stopwatch.GetTimestamp() < until)
            {
                for (int i = 0; i < 64; i++)
                {
                    if (Volatile.Read(ref s->Generation) != seen) { found = true; break; }
                    Thread.SpinWait(1);
                }
                if (found) break;
            }
            if (found) continue;
            lock (_park)
            {
                Interlocked.Increment(ref s->Sleepers); // full fence; pairs with the Generation increment in Run
                while (Volatile.Read(ref s->Generation) == seen && Volatile.Read(ref s->Stop) == 0) Monitor.Wait(_park);
                Interlocked.Decrement(ref s->Sleepers);
            }
            if (Volatile.Read(ref s->Stop) != 0) return;
        }
    }

    /// <summary>
    /// A scratch buffer of at least <paramref name="bytes"/> (64-byte aligned), owned by the context and grown on
    /// demand. Contents are not preserved across growth. Grow only outside parallel regions.
    /// </summary>
    internal void* Scratch(ScratchSlot slot, long bytes)
    {
        int i = (int)slot;
        if ((nuint)bytes > _scratchBytes[i])
        {
            if (_inRegion) throw new InvalidOperationException("scratch cannot grow inside a parallel region");
            NativeMemory.AlignedFree(_scratch[i]);
            nuint size = (nuint)Math.Max(bytes, (long)_scratchBytes[i] * 3 / 2);
            _scratch[i] = NativeMemory.AlignedAlloc(size, 64);
            _scratchBytes[i] = size;
        }
        return _scratch[i];
    }

    public void Dispose()
    {
        if (_s == null) return;
        Volatile.Write(ref _s->Stop, 1);
        Interlocked.Add(ref _s->Generation, 2);
        lock (_park) Monitor.PulseAll(_park);
        foreach (var w in _workers) w.Join();
        NativeMemory.AlignedFree(_s);
        _s = null;
        for (int i = 0; i < _scratch.Length; i++)
        {
            NativeMemory.AlignedFree(_scratch[i]);
            _scratch[i] = null;
            _scratchBytes[i] = 0;
        }
    }

    private struct FnJob : IParallelJob
    {
        public delegate*<int, int, void*, void> Body;
        public void* State;

        public void Execute(int start, int end, int thread) => Body(start, end, State);
    }

    // Written by the caller once per region (line 0), the chunk counter (line 1), completion (line 2), worker presence
    // and parking (line 3).
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Shared
    {
        [FieldOffset(0)] public long Generation;
        [FieldOffset(8)] public delegate*<void*, int, int, int, void> Fn;
        [FieldOffset(16)] public void* Job;
        [FieldOffset(24)] public int N;
        [FieldOffset(28)] public int Chunk;
        [FieldOffset(32)] public int Stop;
        [FieldOffset(64)] public int Next;
        [FieldOffset(128)] public int Done;
        [FieldOffset(192)] public int Active;
        [FieldOffset(196)] public int Sleepers;
    }

    private struct ExceptionDispatchSlot
    {
        private Exception? _e;

        public void Set(Exception e) => Interlocked.CompareExchange(ref _e, e, null);

        public void ThrowIfSet()
        {
            Exception? e = Interlocked.Exchange(ref _e, null);
            if (e != null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e);
        }
    }
}

/// <summary>The context's named scratch buffers; each kernel family owns one so their contents never collide.</summary>
internal enum ScratchSlot
{
    MatMulX,        // activations converted for the weight type (f16/bf16-rounded floats or Q8 blocks)
    AttentionScores, // per-thread score rows
    AttentionKeys,   // keys transposed per (sequence, head) for bidirectional attention
    MatMulFloatGemm,    // per-thread packed weight blocks of MatMulFloatGemm
    MatMulKQuant,       // per-thread unpacked weight rows of MatMulKQuant's GEMM
    Im2Col,             // a chunk of Conv2d's im2col rows (pixels, in*k*k)
    RelPosAttention,    // per-thread score and relative-position rows of Attention.WindowedRelPos
    MatMulPanelX,       // activations packed into token tiles for MatMulPanel
    Count,
}
