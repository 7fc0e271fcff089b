// Per-engine execution state for kernels: the worker threads and scratch buffers, created once and reused,
// so that a decode step allocates nothing.
namespace Furnace.Tensors;

public sealed class KernelContext : IDisposable
{
    public KernelContext(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), threads, "threads must be >= 1");
        Threads = threads;
    }

    public int Threads { get; }

    public void Dispose()
    {
    }
}
