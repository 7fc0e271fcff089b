// Caption datasets as training samples (the instruction Captioner uses, one example per caption or one random
// caption per epoch) and the train/validation split: by image, deterministic, of the requested size.
using Furnace.Data;
using Furnace.Models.Vlm;
using Furnace.Tests.Support;

namespace Furnace.Tests.Data;

public sealed class TrainingSetTests
{
    private static string CaptionJsonl(TempDir dir, int images, int captionsEach)
    {
        var lines = new List<string>();
        for (int i = 0; i < images; i++)
        {
            string img = $"img/{i:D3}.jpg";
            Directory.CreateDirectory(dir.File("img"));
            File.WriteAllBytes(dir.File(img), [0xFF, 0xD8, 0xFF]);
            var caps = Enumerable.Range(0, captionsEach).Select(c => $"\"caption {c} of image {i}\"");
            lines.Add($"{{\"image\": \"{img}\", \"captions\": [{string.Join(", ", caps)}]}}");
        }
        string path = dir.File("set.jsonl");
        File.WriteAllLines(path, lines);
        return path;
    }

    [Fact]
    public void FromCaptions_EachCaption_OneExamplePerCaptionWithCaptionerInstruction()
    {
        using var dir = new TempDir();
        var set = TrainingSet.Load(CaptionJsonl(dir, 3, 2));
        Assert.Equal(TrainingDataFormat.Jsonl, set.Format);
        Assert.Equal(6, set.Count);
        Assert.Equal(3, set.ImageCount);
        var ex = set.Example(1);
        Assert.Equal("000", ex.Id);
        Assert.Equal(dir.File("img/000.jpg"), ex.ImagePath);
        Assert.Equal([new TrainingTurn(TrainingRole.User, "<image>\n" + CaptionInstruction.English), new TrainingTurn(TrainingRole.Assistant, "caption 1 of image 0")], ex.Turns);
        Assert.Equal("img/000.jpg", set.ImageKeyOf(1));
    }

    [Fact]
    public void FromCaptions_Chinese_UsesTheChineseInferenceInstruction()
    {
        using var dir = new TempDir();
        var set = TrainingSet.Load(CaptionJsonl(dir, 1, 1), TrainingSetOptions.ForLanguage("zh"));
        Assert.Equal("<image>\n请用简洁优美的语言描述这张图片的内容", set.Example(0).Turns[0].Text);
    }

    [Fact]
    public void FromCaptions_OneCaptionPerEpoch_SeededChoiceThatVariesByEpoch()
    {
        using var dir = new TempDir();
        var set = TrainingSet.Load(CaptionJsonl(dir, 4, 5), new TrainingSetOptions { Captions = CaptionSampling.OneCaptionPerEpoch });
        Assert.Equal(4, set.Count);
        string Pick(int i, int epoch, ulong seed) => set.Example(i, epoch, seed).Turns[1].Text;
        Assert.Equal(Pick(2, 3, 7), Pick(2, 3, 7));
        var perEpoch = Enumerable.Range(0, 20).Select(e => Pick(0, e, 7)).ToArray();
        Assert.True(perEpoch.Distinct().Count() >= 3, string.Join(" | ", perEpoch));
        Assert.All(perEpoch, c => Assert.EndsWith("of image 0", c));
    }

    [Fact]
    public void Load_FolderAndCoco_AreCaptionSets()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("f"));
        File.WriteAllBytes(dir.File("f/dog.jpg"), [0xFF, 0xD8, 0xFF]);
        File.WriteAllText(dir.File("f/dog.txt"), "A dog.\nA brown dog.\n");
        var folder = TrainingSet.Load(dir.File("f"));
        Assert.Equal(TrainingDataFormat.Folder, folder.Format);
        Assert.Equal(2, folder.Count);
        Assert.Equal("dog.jpg", folder.ImageKeyOf(0));

        var coco = TrainingSet.Load(SharedPaths.Data("coco-mini", "captions.json"));
        Assert.Equal(TrainingDataFormat.Coco, coco.Format);
        Assert.Equal(239 * 5, coco.Count);
        Assert.Equal(239, coco.ImageCount);
    }

    [Fact]
    public void Load_UnknownExtension_Fails()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("x.csv"), "a,b");
        Assert.Contains("unknown training data type '.csv'", Assert.ThrowsAny<FurnaceException>(() => TrainingSet.Load(dir.File("x.csv"))).Message);
    }

    [Fact]
    public void Split_ByImage_NoImageOnBothSidesAndRequestedSize()
    {
        using var dir = new TempDir();
        var set = TrainingSet.Load(CaptionJsonl(dir, 200, 5));
        var split = set.Split(0.1, seed: 3);
        Assert.Equal(1000, split.Train.Count + split.Validation.Count);
        Assert.Equal(100, split.Validation.Count);
        var trainImages = Enumerable.Range(0, split.Train.Count).Select(split.Train.ImageKeyOf).ToHashSet();
        var valImages = Enumerable.Range(0, split.Validation.Count).Select(split.Validation.ImageKeyOf).ToHashSet();
        Assert.Empty(trainImages.Intersect(valImages));
        Assert.Equal(200, trainImages.Count + valImages.Count);
        Assert.Equal(split.TrainIndices.Concat(split.ValidationIndices).Order(), Enumerable.Range(0, 1000));
    }

    [Fact]
    public void Split_SameSeed_SameSplit_OtherSeed_Other()
    {
        using var dir = new TempDir();
        var set = TrainingSet.Load(CaptionJsonl(dir, 100, 1));
        Assert.Equal(set.Split(0.2, 1).ValidationIndices, set.Split(0.2, 1).ValidationIndices);
        Assert.NotEqual(set.Split(0.2, 1).ValidationIndices, set.Split(0.2, 2).ValidationIndices);
        Assert.Equal(7, set.Split(7, 1).Validation.Count);
    }

    [Fact]
    public void Split_LlavaConversationsOfOneImage_StayTogether()
    {
        using var dir = new TempDir();
        var samples = new List<string>();
        for (int i = 0; i < 60; i++)
        {
            string img = $"{i % 20}.jpg";
            File.WriteAllBytes(dir.File(img), [0xFF, 0xD8, 0xFF]);
            samples.Add($$"""{"id": "{{i % 20}}", "image": "{{(i / 20 % 2 == 0 ? "./" : "") + img}}", "conversations": [{"from": "human", "value": "<image>\nq{{i}}"}, {"from": "gpt", "value": "a"}]}""");
        }
        File.WriteAllText(dir.File("l.json"), "[" + string.Join(",\n", samples) + "]");
        var split = TrainingSet.Load(dir.File("l.json")).Split(0.25, 9);
        Assert.Equal(15, split.Validation.Count);
        var val = Enumerable.Range(0, split.Validation.Count).Select(split.Validation.ImagePathOf).ToHashSet();
        Assert.All(Enumerable.Range(0, split.Train.Count), i => Assert.DoesNotContain(split.Train.ImagePathOf(i), val));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(2.5)]
    [InlineData(10.0)]
    [InlineData(double.NaN)]
    public void Split_BadSizes_Fail(double validation)
    {
        using var dir = new TempDir();
        var set = TrainingSet.Load(CaptionJsonl(dir, 10, 1));
        Assert.ThrowsAny<FurnaceException>(() => set.Split(validation));
    }
}
