// `furnace train` end to end: stage 1 on a composed model (tiny CLIP + tiny decoder, no projector yet) trains a fresh
// projector that `furnace caption --projector` then loads; a bad config is a one-line error naming the field.
using Furnace.Tests.Support;

namespace Furnace.Cli.Tests;

public sealed class TrainCliTests : IClassFixture<VlmCliFixture>
{
    private readonly VlmCliFixture _f;

    public TrainCliTests(VlmCliFixture f) => _f = f;

    [Fact]
    public void Train_ComposedModelStage1_ProjectorLoadsInCaption()
    {
        using var dir = new TempDir();
        var lines = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            string img = dir.File($"{i}.bmp");
            VlmCliFixture.WriteBmp(img, 30 + i, 28, 10 + i);
            lines.Add($"{{\"image\": \"{i}.bmp\", \"captions\": [\"picture number {i}\"]}}");
        }
        File.WriteAllLines(dir.File("captions.jsonl"), lines);
        File.WriteAllText(dir.File("train.json"), $$"""
            {"model": {"vision": "{{_f.Clip}}", "decoder": "{{_f.Llm}}"},
             "data": {"train": "captions.jsonl", "val_split": 1},
             "stages": [{"name": "align", "train": ["projector"], "steps": 3}],
             "batch": 2, "validate_every": 2, "checkpoint_every": 2, "sample_every": 0, "threads": 1}
            """);
        string outDir = dir.File("run");
        var r = FurnaceProcess.Run("train", "--config", dir.File("train.json"), "--out", outDir, "--lr", "0.01");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("align: 3 steps, loss", r.Stdout);
        Assert.Contains("validation loss", r.Stderr);
        Assert.Contains("[3/3]", r.Stderr);
        string projector = Path.Combine(outDir, "align", "projector.safetensors");
        Assert.True(File.Exists(Path.Combine(outDir, "align", "metrics.jsonl")));
        Assert.True(File.Exists(Path.Combine(outDir, "align", "loss.png")));

        var caption = FurnaceProcess.Run("caption", _f.ImageA, "--model", _f.Llm, "--vision", _f.Clip, "--projector", projector, "--max-tokens", "3");
        Assert.True(caption.ExitCode == 0, caption.Stderr);

        // again without --resume: refused; with it: nothing left to do
        var again = FurnaceProcess.Run("train", "--config", dir.File("train.json"), "--out", outDir);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("pass --resume", again.Stderr);
        var resumed = FurnaceProcess.Run("train", "--config", dir.File("train.json"), "--out", outDir, "--resume");
        Assert.True(resumed.ExitCode == 0, resumed.Stderr);
        Assert.Contains("finished earlier", resumed.Stderr);
    }

    [Fact]
    public void Train_UnknownPart_OneLineErrorNamingTheField()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("d.jsonl"), "");
        File.WriteAllText(dir.File("train.json"), $$"""{"model": {"llava": "{{_f.Llava}}"}, "data": {"train": "d.jsonl"}, "stages": [{"train": ["vision"], "steps": 1}], "out": "o"}""");
        var r = FurnaceProcess.Run("train", "--config", dir.File("train.json"));
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"furnace: error: {dir.File("train.json")}: stages[0].train: unknown part 'vision' (projector, lora, lm)", r.Stderr.Trim());
    }
}
