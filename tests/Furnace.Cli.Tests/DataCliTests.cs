// `furnace data info` and `furnace data split` end to end: format detection, counts of found and missing images,
// --json, a by-image split whose files read back as datasets, and one-line errors with exit code 1.
using System.Text.Json;
using Furnace.Data;

namespace Furnace.Cli.Tests;

public sealed class DataCliTests
{
    private static void Touch(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, [0xFF, 0xD8, 0xFF]);
    }

    private static string Llava(TempDir dir)
    {
        var samples = new List<string>();
        for (int i = 0; i < 20; i++)
        {
            if (i != 7) Touch(dir.File($"images/{i % 10}.jpg"));
            samples.Add($$"""{"id": "{{i % 10}}", "image": "{{i % 10}}.jpg", "conversations": [{"from": "human", "value": "<image>\nq"}, {"from": "gpt", "value": "An answer of five words."}]}""");
        }
        samples.Add("""{"id": "t", "conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hi."}, {"from": "human", "value": "Bye"}, {"from": "gpt", "value": "Bye."}]}""");
        File.WriteAllText(dir.File("llava.json"), "[" + string.Join(",\n", samples) + "]");
        return dir.File("llava.json");
    }

    [Fact]
    public void Info_Llava_CountsSamplesImagesAndMissing()
    {
        using var dir = new TempDir();
        string json = Llava(dir);
        File.Delete(dir.File("images/7.jpg"));
        var r = FurnaceProcess.Run("data", "info", json, "--image-folder", dir.File("images"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains($"{json}: LLaVA conversations", r.Stdout);
        Assert.Contains("samples        21 (1 text-only), 10 repeated ids", r.Stdout);
        Assert.Contains("images         10: 9 found, 1 missing", r.Stdout);
        Assert.Contains(dir.File("images/7.jpg"), r.Stdout);
        Assert.Contains("turns          2–4 per sample", r.Stdout);
    }

    [Fact]
    public void Info_Json_IsOneObjectWithTheCounts()
    {
        using var dir = new TempDir();
        var r = FurnaceProcess.Run("data", "info", Llava(dir), "--image-folder", dir.File("images"), "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal("llava", root.GetProperty("format").GetString());
        Assert.Equal(21, root.GetProperty("samples").GetInt32());
        Assert.Equal(10, root.GetProperty("images_found").GetInt32());
        Assert.Equal(0, root.GetProperty("images_missing").GetInt32());
        Assert.Equal(1, root.GetProperty("text_only").GetInt32());
        Assert.Equal(4, root.GetProperty("turns").GetProperty("max").GetInt32());
        Assert.Equal(5, root.GetProperty("answer_words").GetProperty("max").GetInt32());
    }

    [Fact]
    public void Info_CaptionFolder_IsDetected()
    {
        using var dir = new TempDir();
        Touch(dir.File("dog.jpg"));
        File.WriteAllText(dir.File("dog.txt"), "A dog.\n一只狗在草地上。\n");
        var r = FurnaceProcess.Run("data", "info", dir.Path, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal("folder", doc.RootElement.GetProperty("format").GetString());
        Assert.Equal(2, doc.RootElement.GetProperty("samples").GetInt32());
    }

    [Fact]
    public void Info_BadSample_OneLineErrorExit1()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("bad.json"), """[{"id": "a", "conversations": [{"from": "human", "value": "q"}]}]""");
        var r = FurnaceProcess.Run("data", "info", dir.File("bad.json"));
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"furnace: error: {dir.File("bad.json")}: [0] (id a).conversations: ends with a human turn (the last turn must be gpt's answer)", r.Stderr.Trim());
    }

    [Fact]
    public void Split_Llava_DisjointImagesReadableAndDeterministic()
    {
        using var dir = new TempDir();
        string json = Llava(dir);
        var r = FurnaceProcess.Run("data", "split", json, "--image-folder", dir.File("images"), "--val", "0.2", "--out", dir.File("out"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("21 samples", r.Stdout);

        // the outputs are self-contained: their image paths resolve from the output folder
        var train = TrainingSet.Load(dir.File("out/train.json"));
        var val = TrainingSet.Load(dir.File("out/val.json"));
        Assert.Equal(21, train.Count + val.Count);
        Assert.InRange(val.Count, 4, 5);
        var valImages = Enumerable.Range(0, val.Count).Select(val.ImagePathOf).Where(p => p is not null).ToHashSet();
        Assert.All(Enumerable.Range(0, train.Count), i => Assert.DoesNotContain(train.ImagePathOf(i), valImages));

        string first = File.ReadAllText(dir.File("out/val.json"));
        var again = FurnaceProcess.Run("data", "split", json, "--image-folder", dir.File("images"), "--val", "0.2", "--out", dir.File("out2"));
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal(first, File.ReadAllText(dir.File("out2/val.json")));
    }

    [Fact]
    public void Split_Captions_WritesJsonlByImage()
    {
        using var dir = new TempDir();
        var lines = new List<string>();
        for (int i = 0; i < 30; i++)
        {
            Touch(dir.File($"img/{i}.jpg"));
            lines.Add($$"""{"image": "img/{{i}}.jpg", "captions": ["first {{i}}", "second {{i}}"]}""");
        }
        File.WriteAllLines(dir.File("set.jsonl"), lines);
        var r = FurnaceProcess.Run("data", "split", dir.File("set.jsonl"), "--val", "3", "--seed", "4", "--out", dir.File("s"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var val = CaptionDataset.Load(dir.File("s/val.jsonl"));
        var train = CaptionDataset.Load(dir.File("s/train.jsonl"));
        Assert.Equal(3, val.Count);
        Assert.Equal(27, train.Count);
        Assert.All(val.Items, v => Assert.False(train.TryGet(v.Id, out _)));
        Assert.All(val.Items, v => Assert.Equal(2, v.Captions.Count));
        Assert.Equal(dir.File($"img/{val.Items[0].Id}.jpg"), val.Items[0].ImagePath);
    }

    [Fact]
    public void Split_TooLargeValidation_Fails()
    {
        using var dir = new TempDir();
        var r = FurnaceProcess.Run("data", "split", Llava(dir), "--image-folder", dir.File("images"), "--val", "21", "--out", dir.File("o"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("leaves no training samples", r.Stderr);
    }
}
