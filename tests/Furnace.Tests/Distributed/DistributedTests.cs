// The parts of data-parallel runs that need no MPI job: launcher detection from the environment, the fault switch,
// the gradient buckets (over an in-memory group of identical ranks) and the work dealing of one process. The MPI
// binding itself is tested under mpirun (tests/Furnace.Cli.Tests/MpiCheckCliTests.cs and the train/eval tests).
using System.Collections;
using Furnace.Distributed;
using Furnace.Tensors.Autograd;
using Furnace.Training;

namespace Furnace.Tests.Distributed;

public sealed class DistributedTests
{
    [Fact]
    public void Detect_NoLauncherVariables_Null() =>
        Assert.Null(MpiLaunch.Detect(new Hashtable { ["PATH"] = "/usr/bin", ["OMPI_MCA_btl"] = "self" }));

    [Fact]
    public void Detect_OpenMpiVariables_RankAndSize() =>
        Assert.Equal(new MpiLaunch(2, 3), MpiLaunch.Detect(new Hashtable { ["OMPI_COMM_WORLD_RANK"] = "2", ["OMPI_COMM_WORLD_SIZE"] = "3", ["PMIX_RANK"] = "2" }));

    [Fact]
    public void Detect_PmixOnly_RankWithoutSize() =>
        Assert.Equal(new MpiLaunch(1, null), MpiLaunch.Detect(new Hashtable { ["PMIX_RANK"] = "1" }));

    [Fact]
    public void Detect_GarbledRank_ErrorNamingTheVariable()
    {
        var e = Assert.Throws<FurnaceException>(() => MpiLaunch.Detect(new Hashtable { ["OMPI_COMM_WORLD_RANK"] = "x" }));
        Assert.Contains("OMPI_COMM_WORLD_RANK='x'", e.Message);
    }

    [Theory]
    [InlineData("1:3:kill", 1, 3, false)]
    [InlineData("0:12:hang", 0, 12, true)]
    public void FaultParse_Valid_RankStepKind(string value, int rank, int step, bool hang) =>
        Assert.Equal(new FaultInjection(rank, step, hang), FaultInjection.Parse(value));

    [Theory]
    [InlineData("1:3")]
    [InlineData("1:3:explode")]
    [InlineData("a:3:kill")]
    public void FaultParse_Invalid_OneLineError(string value)
    {
        var e = Assert.Throws<FurnaceException>(() => FaultInjection.Parse(value));
        Assert.Equal($"environment variable FURNACE_FAULT='{value}' must be RANK:STEP:kill or RANK:STEP:hang", e.Message);
    }

    [Fact]
    public void Shard_SingleProcess_EveryItemInOrder() =>
        Assert.Equal(["a!", "b!", "c!"], SingleProcess.Instance.Shard(new[] { "a", "b", "c" }, s => s + "!", "test"));

    [Fact]
    public void GradientSync_SmallBuckets_EveryGradSummedOnceAndUnreachedStayNull()
    {
        // sizes 3, 7 (split over buckets of 5), 2, and one parameter no backward reached
        var ps = new[] { 3, 7, 2, 4 }.Select((n, i) => Tensor.Parameter($"p{i}", [n], new float[n])).ToArray();
        var rng = new Random(3);
        var before = new float[3][];
        for (int i = 0; i < 3; i++)
        {
            var g = ps[i].EnsureGrad();
            for (int k = 0; k < g.Length; k++) g[k] = (float)rng.NextDouble();
            before[i] = (float[])g.Clone();
        }
        var group = new IdenticalRanks(3);
        new GradientSync(group, ps, bucketFloats: 5).Sum();
        for (int i = 0; i < 3; i++) Assert.Equal(before[i].Select(v => v + v + v), ps[i].Grad!);
        Assert.Null(ps[3].Grad);
        Assert.Equal([5, 5, 2], group.FloatSums); // 3+2 of p1 | 5 of p1 | 2 of p2
    }

    // A group of n ranks that all hold the same data: a sum adds the n copies in rank order, as the ordered reduction does.
    private sealed class IdenticalRanks(int n) : ICommunicator
    {
        public List<int> FloatSums { get; } = [];

        public int Rank => 0;

        public int Size => n;

        public void SumInPlace(float[] data, int count, string what)
        {
            FloatSums.Add(count);
            for (int i = 0; i < count; i++)
            {
                float x = data[i], s = x;
                for (int r = 1; r < n; r++) s += x;
                data[i] = s;
            }
        }

        public void SumInPlace(double[] data, string what)
        {
            for (int i = 0; i < data.Length; i++) data[i] *= n;
        }

        public byte[][] AllGather(byte[] mine, string what) => Enumerable.Repeat(mine, n).ToArray();

        public byte[] Broadcast(byte[]? fromRoot, string what) => fromRoot!;

        public void Barrier(string what)
        {
        }

        public void Abort(int exitCode) => throw new InvalidOperationException("abort");

        public void Dispose()
        {
        }
    }
}
