// `train` with data.augment: the loader hands augmented pixels to VlmObjective (encoded every step instead of the
// per-image feature cache); the same image looks different in two epochs, a resumed run still ends in identical
// weights (augmentation is a function of the data position), and bad augment settings name their field.
using Furnace.Data;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Data;
using Furnace.Tests.Models;
using Furnace.Tests.Support;
using Furnace.Training;

namespace Furnace.Tests.Training;

public sealed class TrainingAugmentationTests
{
    private const string Augment = """, "augment": {"crop": [0.6, 1.0], "flip": 0.5}""";

    private static string WriteConfig(TempDir dir, string model, string data, string augment = Augment)
    {
        string path = dir.File("train.json");
        File.WriteAllText(path, $$"""
            {
              "model": { "llava": "{{model}}" },
              "data": { "train": "{{data}}", "val_split": 2{{augment}} },
              "stages": [{"name": "align", "train": ["projector"], "steps": 5}],
              "batch": 2, "lr": 0.01, "warmup": 1, "validate_every": 2, "eval_samples": 2,
              "sample_every": 0, "checkpoint_every": 2, "keep": 2, "seed": 7, "threads": 1, "out": "run"
            }
            """);
        return path;
    }

    [Fact]
    public void LoaderOptions_Augment_TwoEpochsSeeDifferentPixels()
    {
        using var dir = new TempDir();
        string model = LlavaOracleTests.WriteTiny(dir);
        string data = DataFiles.PngCaptions(dir.File("data"), 4);
        var config = TrainConfig.Load(WriteConfig(dir, model, data));
        Assert.NotNull(config.Augmentation);
        using var trainable = LlavaTrainable.Load(model, new LlavaTrainingOptions { TrainProjector = true });
        var set = TrainingSet.Load(config.Train, new TrainingSetOptions { Instruction = config.Instruction });
        var options = TrainingRun.LoaderOptions(config, config.Stages[0] with { Batch = set.Count }, trainable) with { Shuffle = false };
        using var batches = new LoaderBatches(set, options);
        var epoch0 = batches.Next();
        var epoch1 = batches.Next();
        Assert.Equal(epoch0.Indices, epoch1.Indices);
        for (int k = 0; k < set.Count; k++)
            Assert.False(epoch0.Pixels[k]!.Data.AsSpan().SequenceEqual(epoch1.Pixels[k]!.Data), $"image {k}");

        // the objective encodes the loader's pixels (not the cached features of the plain image)
        using var ctx = new KernelContext(1);
        var objective = new VlmObjective(trainable, ctx, null);
        var f0 = objective.Collate(epoch0).ImageFeatures;
        var f1 = objective.Collate(epoch1).ImageFeatures;
        Assert.False(f0.AsSpan().SequenceEqual(f1));
        var plain = objective.Features(epoch0.Examples[0].ImagePath!);
        Assert.False(plain.AsSpan().SequenceEqual(f0.AsSpan(0, plain.Length)));

        // and the plain loader (no augment) hands over no pixels, so the cache is used
        var none = TrainConfig.Load(WriteConfig(dir, model, data, augment: ""));
        Assert.Null(TrainingRun.LoaderOptions(none, none.Stages[0], trainable).Images);
    }

    [Fact]
    public void Resume_AugmentedRun_EndsInIdenticalWeights()
    {
        using var dir = new TempDir();
        string model = LlavaOracleTests.WriteTiny(dir);
        string data = DataFiles.PngCaptions(dir.File("data"), 8);
        string cfgPath = WriteConfig(dir, model, data);

        var (full, cut) = InterruptedRun.FullAndResumed(dir, cfgPath, (_, step) => step == 3);
        InterruptedRun.AssertSameFiles(full, cut, "align/projector.safetensors");
        InterruptedRun.AssertSameTrainMetrics(full, cut, "align");
        Assert.Contains("\"augment\"", File.ReadAllText(Path.Combine(full, "config.json")));
    }

    [Theory]
    [InlineData("""{"crop": [0.6]}""", "data.augment.crop: has 1 numbers")]
    [InlineData("""{"crop": [0.9, 0.5]}""", "data.augment.crop: [0.9, 0.5] must satisfy")]
    [InlineData("""{"flip": 1.5}""", "data.augment.flip: 1.5 must be a probability")]
    [InlineData("""{"flip": 0.5, "left_right": "keep"}""", "data.augment.left_right: 'keep' must be swap or no_flip")]
    [InlineData("""{}""", "data.augment: turns nothing on")]
    [InlineData("""{"rotate": 10}""", "rotate")]
    public void Load_BadAugment_NamesTheField(string augment, string expected)
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("m"));
        File.WriteAllText(dir.File("d.jsonl"), "");
        string path = dir.File("train.json");
        File.WriteAllText(path, $$"""{"model": {"llava": "m"}, "data": {"train": "d.jsonl", "augment": {{augment}}}, "stages": [{"train": ["projector"], "steps": 1}], "out": "o"}""");
        var e = Assert.Throws<FurnaceException>(() => TrainConfig.Load(path));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith(path, e.Message);
    }
}
