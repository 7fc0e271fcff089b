// `mpirun -np N furnace train` (docs/distributed.md) against the same run on one process: a projector stage then a
// projector + LoRA stage (2 accumulated micro-batches per step) on a tiny random LLaVA, 7 training samples in global batches of 3 (uneven shards: 1+2 on
// two ranks, 1+1+1 on three, the epoch's last batch of 1 leaves ranks empty). The weights after each stage equal the
// single-process weights within 1e-6 relative (L2 norm of the difference over the tensor's; the ranks sum their
// shards' gradients, one process sums the whole batch inside its matmuls: the same mathematics, other float
// rounding, so not bit-identical); the sample captions
// are the same; resume works with another rank count; a dead or hung rank ends the job naming the rank.
using System.Text.Json;
using Furnace.Training;

namespace Furnace.Cli.Tests;

public sealed class MpiTrainFixture : IDisposable
{
    public MpiTrainFixture()
    {
        Llava = Dir.File("llava");
        TinyLlava.Write(Llava, seed: 5);
        var lines = new List<string>();
        for (int i = 0; i < 9; i++)
        {
            RandomBmp.Write(Dir.File($"{i}.bmp"), 24 + 2 * i, 28, 40 + i);
            lines.Add($"{{\"image\": \"{i}.bmp\", \"captions\": [\"picture number {i} of noise\"]}}");
        }
        File.WriteAllLines(Dir.File("captions.jsonl"), lines);
        File.WriteAllText(Dir.File("train.json"), $$"""
            {"model": {"llava": "{{Llava}}"},
             "data": {"train": "captions.jsonl", "val_split": 2},
             "stages": [{"name": "align", "train": ["projector"], "steps": 4},
                        {"name": "tune", "train": ["projector", "lora"], "steps": 4, "accumulation": 2,
                         "lora": {"r": 4, "alpha": 8, "dropout": 0, "target_modules": "q_proj,v_proj"} }],
             "batch": 3, "lr": 0.01, "validate_every": 2, "checkpoint_every": 2, "sample_every": 4, "sample_images": 2, "threads": 1}
            """);
        Config = Dir.File("train.json");
        Single = Dir.File("single");
        var r = FurnaceProcess.Run("train", "--config", Config, "--out", Single);
        if (r.ExitCode != 0) throw new InvalidOperationException(r.Stderr);
    }

    public TempDir Dir { get; } = new();

    public string Llava { get; }

    public string Config { get; }

    /// <summary>The run on one process, without a launcher: the reference.</summary>
    public string Single { get; }

    public void Dispose() => Dir.Dispose();
}

public sealed class MpiTrainCliTests : IClassFixture<MpiTrainFixture>
{
    private const double Tolerance = 1e-6;
    private readonly MpiTrainFixture _f;

    public MpiTrainCliTests(MpiTrainFixture f) => _f = f;

    public static IReadOnlyDictionary<string, (long[] Shape, float[] Values)> Weights(string run, string stage) =>
        TrainingCheckpoint.Load(new CheckpointStore(Path.Combine(run, stage, "checkpoints")).Latest()!).Weights;

    // ‖a − b‖₂ / ‖b‖₂ per tensor (the largest single-element difference is also bounded, by 1e-5 of the tensor's
    // largest magnitude: AdamW divides each element's update by its own gradient scale, so an element whose gradient
    // nearly cancels carries the float-rounding difference of the two summation orders further than the rest)
    private static void AssertClose(string run, string stage, string reference, double tolerance)
    {
        var expected = Weights(reference, stage);
        var actual = Weights(run, stage);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        Assert.Contains(expected.Keys, k => k.Contains("lora", StringComparison.Ordinal) == (stage == "tune"));
        foreach (var (name, (shape, want)) in expected)
        {
            var got = actual[name].Values;
            Assert.Equal(shape, actual[name].Shape);
            double norm = 0, diffNorm = 0, scale = 0, maxDiff = 0;
            for (int i = 0; i < want.Length; i++)
            {
                double d = (double)got[i] - want[i];
                norm += (double)want[i] * want[i];
                diffNorm += d * d;
                scale = Math.Max(scale, Math.Abs((double)want[i]));
                maxDiff = Math.Max(maxDiff, Math.Abs(d));
            }
            double relative = Math.Sqrt(diffNorm / norm);
            Assert.True(relative <= tolerance && maxDiff <= 10 * tolerance * scale,
                $"{stage} {name}: relative L2 difference {relative:E3} (limit {tolerance:E0}), max element difference {maxDiff / scale:E3} of the largest weight (limit {10 * tolerance:E0})");
        }
    }

    private static string[] Samples(string run, string stage) =>
        File.ReadAllLines(Path.Combine(run, stage, "metrics.jsonl")).Where(l => l.Contains("\"sample\"", StringComparison.Ordinal)).ToArray();

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void MpirunTrain_NRanks_WeightsEqualSingleProcess(int ranks)
    {
        string outDir = _f.Dir.File($"np{ranks}");
        var r = Mpirun.Run(ranks, "train", "--config", _f.Config, "--out", outDir);
        Assert.True(r.ExitCode == 0, r.Stderr + r.Stdout);
        Assert.Contains($"data-parallel over {ranks} MPI ranks", r.Stderr);
        Assert.Contains("tune: 4 steps, loss", r.Stdout);
        foreach (string stage in new[] { "align", "tune" })
        {
            AssertClose(outDir, stage, _f.Single, Tolerance);
            Assert.Equal(Samples(_f.Single, stage), Samples(outDir, stage));
            Assert.NotEmpty(Samples(outDir, stage));
        }
        Assert.True(File.Exists(Path.Combine(outDir, "tune", "adapter", "adapter_model.safetensors")));
        // metrics: one line per step, written once (rank 0)
        Assert.Equal(4, File.ReadAllLines(Path.Combine(outDir, "align", "metrics.jsonl")).Count(l => l.Contains("\"type\":\"train\"", StringComparison.Ordinal)));
    }

    [Fact]
    public void MpirunTrain_RankKilled_JobEndsNamingRankAndResumesOnThreeRanks()
    {
        string outDir = _f.Dir.File("killed");
        var fault = new Dictionary<string, string> { ["FURNACE_FAULT"] = "1:3:kill", ["FURNACE_MPI_TIMEOUT"] = "20" };
        var r = Mpirun.Run(2, fault, "train", "--config", _f.Config, "--out", outDir);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("rank 1", r.Stderr + r.Stdout);
        // the checkpoint of step 2 is complete and the latest; the killed run got no further
        var latest = TrainingCheckpoint.Load(new CheckpointStore(Path.Combine(outDir, "align", "checkpoints")).Latest()!);
        Assert.Equal(2, latest.State.Step);
        Assert.False(File.Exists(Path.Combine(outDir, "align", TrainingRun.StageFile)));

        var resumed = Mpirun.Run(3, "train", "--config", _f.Config, "--out", outDir, "--resume");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr + resumed.Stdout);
        Assert.Contains("resuming from", resumed.Stderr);
        foreach (string stage in new[] { "align", "tune" }) AssertClose(outDir, stage, _f.Single, Tolerance);
    }

    [Fact]
    public void MpirunTrain_RankHangs_OthersTimeOutNamingItAndCheckpointStaysValid()
    {
        string outDir = _f.Dir.File("hung");
        var fault = new Dictionary<string, string> { ["FURNACE_FAULT"] = "1:3:hang", ["FURNACE_MPI_TIMEOUT"] = "12" };
        var r = Mpirun.Run(3, fault, "train", "--config", _f.Config, "--out", outDir);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("rank 1 did not answer (died or hangs)", r.Stderr);
        Assert.Contains("rerun the same command with --resume", r.Stderr);
        Assert.Equal(2, TrainingCheckpoint.Load(new CheckpointStore(Path.Combine(outDir, "align", "checkpoints")).Latest()!).State.Step);

        // the restart (one process this time) continues from that checkpoint and ends where the others do
        var resumed = FurnaceProcess.Run("train", "--config", _f.Config, "--out", outDir, "--resume");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        foreach (string stage in new[] { "align", "tune" }) AssertClose(outDir, stage, _f.Single, Tolerance);
    }
}
