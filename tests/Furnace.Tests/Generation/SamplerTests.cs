using Furnace.Generation;

namespace Furnace.Tests.Generation;

public sealed class SamplerTests
{
    private static float[] Logits(params float[] v) => v;

    [Fact]
    public void Sample_TemperatureZero_ReturnsArgMax()
    {
        var s = new Sampler(5, SamplingOptions.Greedy);
        Assert.Equal(3, s.Sample(Logits(0, 1, 2, 5, 4), []));
    }

    [Fact]
    public void Sample_TopK1_AlwaysArgMaxWhateverTheSeed()
    {
        for (ulong seed = 1; seed < 50; seed++)
        {
            var s = new Sampler(5, new SamplingOptions { Temperature = 1.5f, TopK = 1, Seed = seed });
            Assert.Equal(3, s.Sample(Logits(0, 1, 2, 5, 4), []));
        }
    }

    [Fact]
    public void Sample_SameSeed_SameSequence()
    {
        var o = new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 7 };
        var a = new Sampler(4, o);
        var b = new Sampler(4, o);
        for (int i = 0; i < 100; i++) Assert.Equal(a.Sample(Logits(1, 1, 1, 1), []), b.Sample(Logits(1, 1, 1, 1), []));
    }

    [Fact]
    public void Sample_UniformLogits_DrawsEveryTokenAboutEqually()
    {
        var s = new Sampler(4, new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0f, Seed = 3 });
        var counts = new int[4];
        for (int i = 0; i < 8000; i++) counts[s.Sample(Logits(0, 0, 0, 0), [])]++;
        Assert.All(counts, c => Assert.InRange(c, 1800, 2200));
    }

    [Fact]
    public void Sample_TopP_DropsTheTail()
    {
        // probabilities ≈ 0.64, 0.24, 0.09, 0.03: top-p 0.8 keeps the first two only
        var s = new Sampler(4, new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 0.8f, MinP = 0f, Seed = 11 });
        for (int i = 0; i < 2000; i++) Assert.InRange(s.Sample(Logits(3, 2, 1, 0), []), 0, 1);
    }

    [Fact]
    public void Sample_MinP_DropsTokensBelowFractionOfTop()
    {
        // min-p 0.3: token 2 has p/p_max = e^-2 ≈ 0.135 < 0.3, dropped; token 1 has e^-1 ≈ 0.37, kept
        var s = new Sampler(3, new SamplingOptions { Temperature = 1f, TopK = 0, TopP = 1f, MinP = 0.3f, Seed = 5 });
        var seen = new HashSet<int>();
        for (int i = 0; i < 2000; i++) seen.Add(s.Sample(Logits(2, 1, 0), []));
        Assert.Equal(new HashSet<int> { 0, 1 }, seen);
    }

    [Fact]
    public void Sample_RepeatPenalty_PenalizesRecentTokenOnce()
    {
        var s = new Sampler(3, new SamplingOptions { Temperature = 0f, RepeatPenalty = 2f });
        float[] logits = Logits(4f, 3f, -1f);
        Assert.Equal(1, s.Sample(logits, [0, 0, 2]));
        Assert.Equal(2f, logits[0]);   // 4 / 2, once although it occurred twice
        Assert.Equal(-2f, logits[2]);  // negative logits are multiplied
        Assert.Equal(3f, logits[1]);
    }

    [Theory]
    [InlineData(-1f, 40, 0.9f, 0.05f, 1f)]
    [InlineData(0.8f, -1, 0.9f, 0.05f, 1f)]
    [InlineData(0.8f, 40, 0f, 0.05f, 1f)]
    [InlineData(0.8f, 40, 0.9f, 1f, 1f)]
    [InlineData(0.8f, 40, 0.9f, 0.05f, 0f)]
    public void Validated_AbsurdParameters_ThrowNamingTheFlag(float t, int k, float p, float minP, float rp)
    {
        var o = new SamplingOptions { Temperature = t < 0 ? float.NaN : t, TopK = k, TopP = p, MinP = minP, RepeatPenalty = rp };
        var ex = Assert.Throws<FurnaceException>(() => o.Validated());
        Assert.StartsWith("--", ex.Message);
    }

    [Fact]
    public void Sample_AfterWarmUp_AllocatesNothing()
    {
        var rng = new Random(2);
        float[] logits = Enumerable.Range(0, 1000).Select(_ => (float)rng.NextDouble() * 10).ToArray();
        float[] work = new float[logits.Length];
        int[] recent = [1, 2, 3, 4, 5];
        var s = new Sampler(logits.Length, new SamplingOptions { Temperature = 0.8f, TopK = 40, TopP = 0.9f, MinP = 0.05f, RepeatPenalty = 1.1f, Seed = 1 });
        logits.CopyTo(work);
        s.Sample(work, recent);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 10; i++)
        {
            logits.CopyTo(work);
            s.Sample(work, recent);
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
