// The thread pool: every index runs exactly once, regions repeat without loss, worker exceptions reach the caller,
// nested regions run inline, and Dispose joins the workers.
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class KernelContextTests
{
    private struct CountJob : IParallelJob
    {
        public int[] Hits;
        public int Threads;

        public void Execute(int start, int end, int thread)
        {
            Assert.InRange(thread, 0, Threads - 1);
            for (int i = start; i < end; i++) Interlocked.Increment(ref Hits[i]);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    public void Run_ManyRegions_EveryIndexOnce(int threads)
    {
        using var ctx = new KernelContext(threads);
        foreach (int n in new[] { 1, 2, 3, 17, 1000 })
        {
            var job = new CountJob { Hits = new int[n], Threads = threads };
            for (int rep = 0; rep < 200; rep++) ctx.Run(ref job, n, grain: 3);
            Assert.All(job.Hits, h => Assert.Equal(200, h));
        }
    }

    private struct ThrowJob : IParallelJob
    {
        public void Execute(int start, int end, int thread)
        {
            if (start <= 500 && 500 < end) throw new InvalidOperationException("boom");
        }
    }

    [Fact]
    public void Run_BodyThrows_ExceptionReachesCallerAndContextStaysUsable()
    {
        using var ctx = new KernelContext(2);
        var bad = new ThrowJob();
        Assert.Throws<InvalidOperationException>(() => ctx.Run(ref bad, 1000));
        var job = new CountJob { Hits = new int[64], Threads = 2 };
        ctx.Run(ref job, 64);
        Assert.All(job.Hits, h => Assert.Equal(1, h));
    }

    private struct NestedJob : IParallelJob
    {
        public KernelContext Ctx;
        public int[] Hits;

        public void Execute(int start, int end, int thread)
        {
            var inner = new CountJob { Hits = Hits, Threads = Ctx.Threads };
            for (int i = start; i < end; i++) Ctx.Run(ref inner, Hits.Length);
        }
    }

    [Fact]
    public void Run_NestedRegion_RunsInline()
    {
        using var ctx = new KernelContext(2);
        var job = new NestedJob { Ctx = ctx, Hits = new int[10] };
        ctx.Run(ref job, 8);
        Assert.All(job.Hits, h => Assert.Equal(8, h));
    }

    [Fact]
    public void Dispose_AfterIdle_Returns()
    {
        var ctx = new KernelContext(3);
        Thread.Sleep(5); // let workers park
        var job = new CountJob { Hits = new int[9], Threads = 3 };
        ctx.Run(ref job, 9);
        ctx.Dispose();
        ctx.Dispose();
        Assert.All(job.Hits, h => Assert.Equal(1, h));
    }
}
