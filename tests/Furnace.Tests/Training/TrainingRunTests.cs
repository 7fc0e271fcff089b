// A whole two-stage run (projector alignment, then projector + LoRA) on a tiny random LLaVA checkpoint and a folder
// of PNGs with JSONL captions: outputs in the layouts the rest of Furnace loads, the config validator's messages, and
// an interrupted run resumed with --resume ending in byte-identical weights.
using Furnace.Generation;
using Furnace.Models.Lora;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Data;
using Furnace.Tests.Models;
using Furnace.Tests.Support;
using Furnace.Training;

namespace Furnace.Tests.Training;

public sealed class TrainingRunTests
{
    private static string WriteConfig(TempDir dir, string model, string data, string stages, string extra = "")
    {
        string path = dir.File("train.json");
        File.WriteAllText(path, $$"""
            {
              // comments are allowed
              "model": { "llava": "{{model}}" },
              "data": { "train": "{{data}}", "val_split": 2 },
              "stages": {{stages}},
              "batch": 2, "lr": 0.01, "warmup": 1, "validate_every": 2, "eval_samples": 2,
              "sample_every": 3, "sample_images": 1, "sample_max_tokens": 4, "checkpoint_every": 2, "keep": 2,
              "seed": 7, "threads": 1, "out": "run"{{extra}}
            }
            """);
        return path;
    }

    private const string TwoStages = """
        [{"name": "align", "train": ["projector"], "steps": 4},
         {"name": "finetune", "train": ["projector", "lora"], "steps": 3, "lr": 0.005,
          "lora": {"r": 4, "alpha": 8, "dropout": 0.1, "target_modules": "q_proj,v_proj"}}]
        """;

    [Fact]
    public void Run_TwoStages_WritesLoadableModelAdapterAndLogs()
    {
        using var dir = new TempDir();
        string model = LlavaOracleTests.WriteTiny(dir);
        string data = DataFiles.PngCaptions(dir.File("data"), 8);
        var config = TrainConfig.Load(WriteConfig(dir, model, data, TwoStages));
        var captions = new List<string>();
        var run = new TrainingRun(config, resume: false, p => throw new InvalidOperationException("not composed"));
        run.SampleCaption += (_, _, _, caption) => captions.Add(caption);
        var summaries = run.Run();

        Assert.Equal(["align", "finetune"], summaries.Select(s => s.Name));
        Assert.All(summaries, s => Assert.True(double.IsFinite(s.FinalLoss!.Value) && double.IsFinite(s.FinalValLoss!.Value)));
        string stage2 = dir.File("run/finetune");
        Assert.True(File.Exists(Path.Combine(stage2, "loss.png")));
        Assert.True(File.Exists(dir.File("run/config.json")));
        string[] lines = File.ReadAllLines(Path.Combine(stage2, "metrics.jsonl"));
        Assert.Equal(3, lines.Count(l => l.Contains("\"type\":\"train\"")));
        Assert.Equal(2, lines.Count(l => l.Contains("\"type\":\"val\"")));  // steps 2 and 3 (the last)
        Assert.Single(lines, l => l.Contains("\"type\":\"sample\"")); // step 3, one image
        Assert.NotEmpty(captions);

        // the stage-2 model loads as a LLaVA directory and captions; the adapter loads as a PEFT adapter
        using (var trained = LlavaModel.Load(summaries[1].Model!))
        using (var ctx = new KernelContext(1))
        {
            var captioner = new Captioner(trained, CaptionInstruction.English, new GenerationOptions { MaxTokens = 4, Sampling = SamplingOptions.Greedy });
            captioner.Caption(LlavaOracleTests.RandomImage(32, 32, 1), ctx);
        }
        var adapter = LoraAdapter.Load(summaries[1].Adapter!);
        Assert.Equal(4, adapter.Config.Rank);
        Assert.Contains(adapter.ModulePaths, p => p.EndsWith("q_proj", StringComparison.Ordinal));
        // the checkpoints of a LoRA stage carry the adapter too
        var store = new CheckpointStore(Path.Combine(stage2, "checkpoints"));
        Assert.True(File.Exists(Path.Combine(store.Latest()!, "adapter", LoraConfig.FileName)));
    }

    [Fact]
    public void Resume_InterruptedRun_EndsInIdenticalWeights()
    {
        using var dir = new TempDir();
        string model = LlavaOracleTests.WriteTiny(dir);
        string data = DataFiles.PngCaptions(dir.File("data"), 8);
        string cfgPath = WriteConfig(dir, model, data, TwoStages);

        var (full, cut) = InterruptedRun.FullAndResumed(dir, cfgPath, (stage, step) => stage.Name == "finetune" && step == 1, cutConfig =>
        {
            // restarting without --resume is refused
            var e = Assert.Throws<FurnaceException>(() => new TrainingRun(cutConfig, false, _ => throw new InvalidOperationException()).Run());
            Assert.Contains("pass --resume", e.Message);
        });

        InterruptedRun.AssertSameFiles(full, cut, "align/projector.safetensors", "finetune/projector.safetensors", "finetune/adapter/adapter_model.safetensors", "finetune/model/model.safetensors");
        InterruptedRun.AssertSameTrainMetrics(full, cut, "finetune");
    }

    [Theory]
    [InlineData("\"stages\": [{\"name\": \"a\", \"train\": [\"lorra\"], \"steps\": 1}]", "stages[0].train: unknown part 'lorra' (projector, lora, lm)")]
    [InlineData("\"stages\": [{\"name\": \"a\", \"train\": [\"lora\", \"lm\"], \"steps\": 1}]", "stages[0].train: lora and lm exclude each other")]
    [InlineData("\"stages\": [{\"name\": \"a\", \"train\": [\"projector\"]}]", "stages[0].steps: missing")]
    [InlineData("\"stages\": [{\"name\": \"a\", \"train\": [\"projector\"], \"steps\": 1, \"learning_rate\": 1}]", "learning_rate")]
    [InlineData("\"stages\": [{\"name\": \"a\", \"train\": [\"projector\"], \"steps\": 1, \"schedule\": \"cosin\"}]", "stages[0].schedule: unknown schedule 'cosin'")]
    [InlineData("\"stages\": []", "stages: missing or empty")]
    public void Load_BadConfig_NamesTheField(string stages, string expected)
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("m"));
        File.WriteAllText(dir.File("d.jsonl"), "");
        string path = dir.File("train.json");
        File.WriteAllText(path, $$"""{"model": {"llava": "m"}, "data": {"train": "d.jsonl"}, {{stages}}, "out": "o"}""");
        var e = Assert.Throws<FurnaceException>(() => TrainConfig.Load(path));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith(path, e.Message);
    }

    [Fact]
    public void Load_Defaults_FilledAndOverridden()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("m"));
        File.WriteAllText(dir.File("d.jsonl"), "");
        string path = dir.File("train.json");
        File.WriteAllText(path, """{"model": {"llava": "m"}, "data": {"train": "d.jsonl"}, "stages": [{"train": ["projector"], "steps": 100}, {"train": ["projector", "lora"], "steps": 50, "projector_lr": 2e-5}], "out": "o", "warmup": 0.1}""");
        var c = TrainConfig.Load(path, new TrainConfig.Overrides(Batch: 3));
        Assert.Equal(["stage1", "stage2"], c.Stages.Select(s => s.Name));
        Assert.Equal(10, c.Stages[0].WarmupSteps);
        Assert.Equal(1e-3f, c.Stages[0].ProjectorLr);
        Assert.Equal(2e-4f, c.Stages[1].LoraLr);
        Assert.Equal(2e-5f, c.Stages[1].ProjectorLr);
        Assert.Equal(3, c.Stages[1].Batch);
        Assert.Equal(8, c.Stages[1].Lora!.Rank);
        Assert.Equal(dir.File("o"), c.Out);
        Assert.Equal(0.05, c.ValSplit);
        var s = TrainConfig.Load(path, new TrainConfig.Overrides(Steps: 5, Lr: 0.5));
        Assert.All(s.Stages, st => Assert.Equal((5, 0.5f, 0.5f), (st.Steps, st.ProjectorLr, st.LoraLr)));
    }
}
