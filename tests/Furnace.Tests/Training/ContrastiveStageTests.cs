// A `train` stage with "objective": "contrastive" on the tiny random LLaVA: InfoNCE loss falls, retrieval accuracy
// is logged for training and validation, the projector pair lands in the stage folder under its names, a following
// captioning stage still starts from the base model, a cut run resumes to identical weights, and bad settings name
// their field.
using Furnace.Formats.SafeTensors;
using Furnace.Tests.Data;
using Furnace.Tests.Models;
using Furnace.Tests.Support;
using Furnace.Training;

namespace Furnace.Tests.Training;

public sealed class ContrastiveStageTests
{
    private const string Stages = """
        [{"name": "contrast", "objective": "contrastive", "steps": 12, "lr": 0.02, "embed_dim": 16, "batch": 3},
         {"name": "align", "train": ["projector"], "steps": 1}]
        """;

    private static string WriteConfig(TempDir dir, string model, string data)
    {
        string path = dir.File("train.json");
        File.WriteAllText(path, $$"""
            {
              "model": { "llava": "{{model}}" },
              "data": { "train": "{{data}}", "val_split": 3 },
              "stages": {{Stages}},
              "batch": 2, "warmup": 1, "validate_every": 4, "sample_every": 0, "checkpoint_every": 4, "keep": 2,
              "seed": 3, "threads": 1, "out": "run"
            }
            """);
        return path;
    }

    [Fact]
    public void Run_ContrastiveStage_LossFallsLogsAccuracyAndWritesPair()
    {
        using var dir = new TempDir();
        string model = LlavaOracleTests.WriteTiny(dir);
        string data = DataFiles.PngCaptions(dir.File("data"), 9);
        var config = TrainConfig.Load(WriteConfig(dir, model, data));
        var summaries = new TrainingRun(config, false, _ => throw new InvalidOperationException()).Run();

        Assert.Equal(["contrast", "align"], summaries.Select(s => s.Name));
        Assert.Null(summaries[0].Model);
        string[] lines = File.ReadAllLines(dir.File("run/contrast/metrics.jsonl"));
        var losses = lines.Where(l => l.Contains("\"type\":\"train\"")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("loss").GetDouble()).ToArray();
        Assert.Equal(12, losses.Length);
        Assert.True(losses[^3..].Average() < losses[..3].Average() - 0.05, string.Join(", ", losses));
        Assert.Equal(12, lines.Count(l => l.Contains("\"type\":\"retrieval\"") && l.Contains("\"split\":\"train\"")));
        var val = lines.Where(l => l.Contains("\"split\":\"val\"")).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToArray();
        Assert.Equal(3, val.Length); // steps 4, 8, 12
        Assert.All(val, v => Assert.Equal(6, v.GetProperty("retrievals").GetInt32())); // 3 validation pairs, both directions
        Assert.All(val, v => Assert.InRange(v.GetProperty("top1").GetDouble(), 0, 1));

        using (var st = SafeTensorsFile.Open(summaries[0].Projectors!))
        {
            var names = st.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal).ToArray();
            Assert.Equal(["image_projector.linear_1.bias", "image_projector.linear_1.weight", "logit_scale", "text_projector.linear_1.bias", "text_projector.linear_1.weight"], names);
            Assert.Equal(16, st.FindInfo("image_projector.linear_1.weight")!.Shape[0]);
            Assert.Equal(16, st.FindInfo("text_projector.linear_1.weight")!.Shape[0]);
        }
        // the captioning stage after it trained the base model's projector
        Assert.NotNull(summaries[1].Model);
        Assert.Contains("\"objective\": \"contrastive\"", File.ReadAllText(dir.File("run/config.json")));
    }

    [Fact]
    public void Resume_ContrastiveStage_EndsInIdenticalWeights()
    {
        using var dir = new TempDir();
        string model = LlavaOracleTests.WriteTiny(dir);
        string data = DataFiles.PngCaptions(dir.File("data"), 9);
        string cfgPath = WriteConfig(dir, model, data);
        var (full, cut) = InterruptedRun.FullAndResumed(dir, cfgPath, (_, step) => step == 6);
        InterruptedRun.AssertSameFiles(full, cut, "contrast/contrastive_projectors.safetensors");
    }

    [Theory]
    [InlineData("""{"objective": "clip", "steps": 1}""", "stages[0].objective: 'clip' must be caption or contrastive")]
    [InlineData("""{"objective": "contrastive", "train": ["projector"], "steps": 1}""", "stages[0].train: a contrastive stage trains its own")]
    [InlineData("""{"objective": "contrastive", "steps": 1, "embed_dim": 0}""", "stages[0].embed_dim: 0 must be at least 1")]
    [InlineData("""{"objective": "contrastive", "steps": 1, "batch": 1}""", "stages[0].batch: 1: a contrastive stage needs at least 2")]
    [InlineData("""{"train": ["projector"], "steps": 1, "embed_dim": 8}""", "stages[0].embed_dim: only for a contrastive stage")]
    [InlineData("""{"objective": "contrastive", "steps": 1, "lora": {"r": 4}}""", "stages[0].lora: a contrastive stage trains no LoRA")]
    public void Load_BadContrastiveStage_NamesTheField(string stage, string expected)
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("m"));
        File.WriteAllText(dir.File("d.jsonl"), "");
        string path = dir.File("train.json");
        File.WriteAllText(path, $$"""{"model": {"llava": "m"}, "data": {"train": "d.jsonl"}, "stages": [{{stage}}], "out": "o"}""");
        var e = Assert.Throws<FurnaceException>(() => TrainConfig.Load(path));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith(path, e.Message);
    }
}
