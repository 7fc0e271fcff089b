// DefaultRecipe.Prepare on tiny stand-in datasets (no download): the samples (English for every image, Chinese for
// every other one that has it), a tokenizer that loads and knows <image>, an initial model that loads through
// LlavaModel.Load, and a training config (stage 1 joint, stage 2 LoRA) that TrainConfig accepts.
using System.Text.Json;
using Furnace.Formats.Tokenizers;
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Tests.Support;
using Furnace.Training;
using Furnace.Training.Recipes;

namespace Furnace.Tests.Training;

public sealed class DefaultRecipeTests
{
    private static void FakeDataset(string dir, string name, int n)
    {
        string d = Path.Combine(dir, name);
        Directory.CreateDirectory(Path.Combine(d, "images"));
        var lines = new List<string>();
        for (int i = 0; i < n; i++)
        {
            string image = $"images/{i}.png";
            using (var bmp = new SkiaSharp.SKBitmap(8, 8))
            {
                bmp.Erase(new SkiaSharp.SKColor((byte)(i * 40), 0, 0));
                using var png = bmp.Encode(SkiaSharp.SKEncodedImageFormat.Png, 100);
                File.WriteAllBytes(Path.Combine(d, image), png.ToArray());
            }
            lines.Add(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["id"] = $"{name}{i}",
                ["image"] = image,
                ["captions"] = new[] { $"two red {name} number {i} to the left of a dog", $"a dog to the right of two red {name}" },
                ["captions_zh"] = new[] { $"两个红色的{i}在一只狗的左边" },
            }));
        }
        File.WriteAllLines(Path.Combine(d, "captions.jsonl"), lines);
    }

    /// <summary>Stand-in scenes, emoji-google and flags under ROOT/data and a recipe of a tiny model over them.</summary>
    private static DefaultRecipe TinyRecipe(string root, int scenes, int others)
    {
        string data = Path.Combine(root, "data");
        FakeDataset(data, "scenes", scenes);
        FakeDataset(data, "emoji-google", others);
        FakeDataset(data, "flags", others);
        return new DefaultRecipe { DataDir = data, Out = Path.Combine(root, "out"), VocabSize = 400, Dim = 64, Layers = 1, Heads = 2, FfnDim = 96 };
    }

    [Fact]
    public void Prepare_TinyDatasets_WritesSamplesTokenizerModelAndConfigs()
    {
        using var tmp = new TempDir();
        var recipe = TinyRecipe(tmp.Path, scenes: 4, others: 2);
        string config = recipe.Prepare(_ => { });

        using var images = JsonDocument.Parse(File.ReadAllBytes(recipe.ImagesJson));
        var answers = images.RootElement.EnumerateArray().Select(s => s.GetProperty("conversations")[1].GetProperty("value").GetString()!).ToList();
        Assert.Equal(8 + 4, answers.Count); // 8 images in English, every other one in Chinese too
        Assert.Equal(4, answers.Count(a => a.Contains('狗')));
        Assert.Contains(images.RootElement.EnumerateArray(), s => s.GetProperty("conversations")[0].GetProperty("value").GetString() == "<image>\n" + CaptionInstruction.Chinese);
        Assert.All(images.RootElement.EnumerateArray(), s => Assert.True(File.Exists(s.GetProperty("image").GetString())));

        var tok = Tokenizer.Open(recipe.InitDir);
        Assert.Equal(3, tok.TokenId("<image>"));
        using (var model = LlavaModel.Load(recipe.InitDir))
        {
            Assert.Equal(49, model.TokensPerImage);
            Assert.Equal(tok.VocabSize, model.Decoder.VocabSize);
        }
        var train = TrainConfig.Load(config);
        Assert.Equal(["joint", "lora"], train.Stages.Select(s => s.Name));
        Assert.Equal(LlamaTraining.Full, train.Stages[0].Language);
        Assert.True(train.Stages[0].TrainProjector);
        Assert.Equal(64, train.Stages[1].Lora!.Rank);
    }

    [Fact]
    public void Prepare_ScenesBuiltWithOtherObjectCount_NamesTheFolderAndRefuses()
    {
        using var tmp = new TempDir();
        var recipe = TinyRecipe(tmp.Path, scenes: 2, others: 1);
        string data = recipe.DataDir;
        File.WriteAllText(Path.Combine(data, "scenes", "dataset.json"), "{\"name\": \"scenes\", \"objects\": 545}");
        var e = Assert.Throws<FurnaceException>(() => recipe.Prepare(_ => { }));
        Assert.Contains(Path.Combine(data, "scenes"), e.Message);
        Assert.Contains("545 scene objects, the recipe uses 100", e.Message);
        // the same count passes
        File.WriteAllText(Path.Combine(data, "scenes", "dataset.json"), "{\"name\": \"scenes\", \"objects\": 100}");
        recipe.Prepare(_ => { });
        Assert.True(File.Exists(recipe.ImagesJson));
    }

    [Fact]
    public void Spread_MoreItemsThanWanted_TakesThemEvenly()
    {
        var items = Enumerable.Range(0, 10).Select(i => new Furnace.Data.CaptionItem($"{i}", $"{i}.png", ["c"])).ToList();
        Assert.Equal(["0", "2", "5", "7"], DefaultRecipe.Spread(items, 4).Select(i => i.Id));
        Assert.Equal(10, DefaultRecipe.Spread(items, 20).Count());
    }
}
