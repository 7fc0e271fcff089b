// AdamW, gradient clipping and the learning-rate schedules against the references: torch.optim.AdamW and
// torch.nn.utils.clip_grad_norm_ (PyTorch 1.13) and HF transformers' schedule lambdas driven through LambdaLR
// (Oracles/optim_reference.py).
using System.Text.Json;
using Furnace.Tensors.Autograd;
using Furnace.Tests.Support;
using Furnace.Training;

namespace Furnace.Tests.Training;

public sealed class OptimizerOracleTests
{
    private static float[] RandomValues(Random rng, int n, float scale) =>
        Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();

    private static JsonDocument Oracle(TempDir dir, Dictionary<string, object> request)
    {
        string req = dir.File("req.json"), res = dir.File("res.json");
        File.WriteAllText(req, JsonSerializer.Serialize(request));
        PyTorchOracle.Run("optim_reference.py", req, res);
        return JsonDocument.Parse(File.ReadAllBytes(res));
    }

    [Fact]
    public void AdamW_FiveStepsTwoGroups_MatchesTorch()
    {
        var rng = new Random(11);
        // sizes that exercise the 16-wide, 8-wide and scalar tails of the kernel
        int[][] shapes = [[5, 7], [37], [3, 16], [9]];
        var tensors = shapes.Select((s, i) => Tensor.Parameter($"p{i}", s, RandomValues(rng, s.Aggregate(1, (a, b) => a * b), 1f))).ToArray();
        float[][] initial = tensors.Select(t => (float[])t.Data.Clone()).ToArray();
        var groups = new[]
        {
            new ParameterGroup("a", [tensors[0], tensors[1]]) { LearningRate = 1e-2f, WeightDecay = 0.1f },
            new ParameterGroup("b", [tensors[2], tensors[3]]) { LearningRate = 3e-3f, WeightDecay = 0f },
        };
        var adam = new AdamW(groups, 0.9, 0.95, 1e-6);
        var grads = new List<float[][]>();
        for (int step = 0; step < 5; step++)
        {
            float[][] g = tensors.Select(t => RandomValues(rng, t.Length, step == 2 ? 1e-4f : 2f)).ToArray();
            grads.Add(g);
            for (int i = 0; i < tensors.Length; i++) g[i].CopyTo(tensors[i].EnsureGrad(), 0);
            adam.Step();
            adam.ZeroGrad();
        }

        using var dir = new TempDir();
        using var reference = Oracle(dir, new Dictionary<string, object>
        {
            ["mode"] = "adamw",
            ["params"] = initial.Select(a => a.Select(v => (double)v).ToArray()).ToArray(),
            ["groups"] = new object[]
            {
                new Dictionary<string, object> { ["params"] = new[] { 0, 1 }, ["lr"] = (double)1e-2f, ["weight_decay"] = (double)0.1f },
                new Dictionary<string, object> { ["params"] = new[] { 2, 3 }, ["lr"] = (double)3e-3f, ["weight_decay"] = 0.0 },
            },
            ["betas"] = new[] { 0.9, 0.95 },
            ["eps"] = 1e-6,
            ["grads"] = grads.Select(s => s.Select(a => a.Select(v => (double)v).ToArray()).ToArray()).ToArray(),
        });
        var expected = reference.RootElement.GetProperty("params").EnumerateArray().ToArray();
        double worst = 0;
        for (int i = 0; i < tensors.Length; i++)
        {
            double[] e = expected[i].EnumerateArray().Select(v => v.GetDouble()).ToArray();
            Assert.Equal(e.Length, tensors[i].Length);
            for (int j = 0; j < e.Length; j++) worst = Math.Max(worst, Math.Abs(e[j] - tensors[i].Data[j]));
        }
        Assert.True(worst <= 1e-6, $"parameters differ from torch.optim.AdamW by {worst:E2}");
        Assert.All(adam.States, s => Assert.Equal(5, s.Step));
    }

    [Theory]
    [InlineData(0.5)]   // clips
    [InlineData(1000)]  // leaves the gradients alone
    public void ClipByGlobalNorm_MatchesTorch(double maxNorm)
    {
        var rng = new Random(3);
        int[] sizes = [33, 8, 100];
        var tensors = sizes.Select((n, i) => Tensor.Parameter($"p{i}", [n], new float[n])).ToArray();
        foreach (var t in tensors) RandomValues(rng, t.Length, 0.3f).CopyTo(t.EnsureGrad(), 0);
        var before = tensors.Select(t => t.Grad!.Select(v => (double)v).ToArray()).ToArray();
        double norm = GradientClipping.ClipByGlobalNorm(tensors, maxNorm);

        using var dir = new TempDir();
        using var reference = Oracle(dir, new Dictionary<string, object> { ["mode"] = "clip", ["grads"] = before, ["max_norm"] = maxNorm });
        Assert.Equal(reference.RootElement.GetProperty("total_norm").GetDouble(), norm, 1e-5);
        var expected = reference.RootElement.GetProperty("grads").EnumerateArray().ToArray();
        for (int i = 0; i < tensors.Length; i++)
        {
            double[] e = expected[i].EnumerateArray().Select(v => v.GetDouble()).ToArray();
            for (int j = 0; j < e.Length; j++) Assert.True(Math.Abs(e[j] - tensors[i].Grad![j]) <= 1e-7, $"grad {i}[{j}]: {tensors[i].Grad![j]} vs torch {e[j]}");
        }
        if (maxNorm < 1) Assert.Equal(maxNorm, GradientClipping.GlobalNorm(tensors), 1e-5);
    }

    [Theory]
    [InlineData("cosine", 10, 100, 0.0)]
    [InlineData("cosine", 7, 50, 0.1)]
    [InlineData("cosine", 0, 20, 0.0)]
    [InlineData("linear", 5, 40, 0.0)]
    [InlineData("constant", 4, 30, 0.0)]
    public void Schedule_MatchesHfLambdaLr(string kind, int warmup, int total, double minRatio)
    {
        var schedule = new LearningRateSchedule(LearningRateSchedule.ParseKind(kind), warmup, total, minRatio).Validated();
        using var dir = new TempDir();
        using var reference = Oracle(dir, new Dictionary<string, object>
        {
            ["mode"] = "schedule", ["kind"] = kind, ["warmup"] = warmup, ["total"] = total, ["min_ratio"] = minRatio, ["steps"] = total + 3,
        });
        double[] expected = reference.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray();
        for (int s = 0; s < expected.Length; s++) Assert.True(Math.Abs(expected[s] - schedule.Multiplier(s)) <= 1e-12, $"step {s}: {schedule.Multiplier(s)} vs HF {expected[s]}");
    }
}
