// `furnace caption`, `ask` and `embed --projected` on a tiny random DeepSeek-VL directory in the published layout
// (RandomDeepSeekVl): caption --json carries the generated token_ids, --lang zh asks in Chinese, ask accepts DeepSeek's
// own <image_placeholder>, eval --model scores a dataset, embed --projected prints the features spliced into the language model (also for LLaVA)
// with their shape, and a missing processor config is a one-line error naming the file.
using System.Text.Json;
using Furnace.Formats.Images;
using Furnace.Models.DeepSeekVl;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Cli.Tests;

public sealed class DeepSeekVlCliFixture : IDisposable
{
    public DeepSeekVlCliFixture()
    {
        Model = Dir.File("deepseek-vl");
        RandomDeepSeekVl.Write(Model, RandomDeepSeekVl.TestTiny(), seed: 7);
        Llava = Dir.File("llava");
        TinyLlava.Write(Llava, seed: 5);
        Image = Dir.File("a.bmp");
        RandomBmp.Write(Image, 40, 30, 1);
        RandomBmp.Write(Dir.File("b.bmp"), 24, 48, 2);
        Data = Dir.File("data.jsonl");
        File.WriteAllLines(Data,
        [
            JsonSerializer.Serialize(new { image = "a.bmp", captions = new[] { "noise in a frame" } }),
            JsonSerializer.Serialize(new { image = "b.bmp", captions = new[] { "a tall noisy picture" } }),
        ]);
    }

    public string Data { get; }

    public TempDir Dir { get; } = new();

    public string Model { get; }

    public string Llava { get; }

    public string Image { get; }

    public void Dispose() => Dir.Dispose();
}

public sealed class DeepSeekVlCliTests(DeepSeekVlCliFixture f) : IClassFixture<DeepSeekVlCliFixture>
{
    [Theory]
    [InlineData("en")]
    [InlineData("zh")]
    public void Caption_Json_HasTokenIds(string lang)
    {
        var r = FurnaceProcess.Run("caption", f.Image, "--model", f.Model, "--lang", lang, "--max-tokens", "6", "--json", "-t", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        JsonElement o = JsonDocument.Parse(r.Stdout.Trim()).RootElement;
        int[] ids = o.GetProperty("token_ids").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(o.GetProperty("tokens").GetInt32(), ids.Length);
        Assert.InRange(ids.Length, 1, 6);
        Assert.All(ids, id => Assert.InRange(id, 0, 319));
    }

    [Theory]
    [InlineData("What is in the picture?")]
    [InlineData("<image_placeholder>\n图片里有什么？")]
    public void Ask_WithOrWithoutTag_Answers(string question)
    {
        var r = FurnaceProcess.Run("ask", f.Image, question, "--model", f.Model, "--max-tokens", "4", "--json", "-t", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        JsonElement o = JsonDocument.Parse(r.Stdout.Trim()).RootElement;
        Assert.InRange(o.GetProperty("tokens").GetInt32(), 1, 4);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Embed_Projected_PrintsTheSplicedFeatures(bool llava)
    {
        string dir = llava ? f.Llava : f.Model;
        var r = FurnaceProcess.Run("embed", f.Image, "--model", dir, "--projected", "--json", "-t", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        JsonElement o = JsonDocument.Parse(r.Stdout.Trim()).RootElement;
        Assert.Equal([16, 64], o.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray());
        float[] printed = o.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        using var model = LlavaModel.Load(dir);
        using var ctx = new KernelContext(1);
        float[] expected = model.ProjectImages([ImageDecoder.Load(f.Image)], ctx);
        Assert.Equal(expected, printed);
    }

    [Fact]
    public void EvalModel_DeepSeekVlDirectory_ScoresEveryImage()
    {
        using var dir = new TempDir();
        string outDir = dir.File("run");
        var r = FurnaceProcess.Run("eval", "--model", f.Model, "--data", f.Data, "--max-tokens", "4", "-t", "1", "--out", outDir);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("| CIDEr-D |", r.Stdout);
        using var predictions = JsonDocument.Parse(File.ReadAllText(Path.Combine(outDir, "predictions.json")));
        Assert.Equal(2, predictions.RootElement.GetArrayLength());
    }

    [Fact]
    public void Caption_MissingProcessorConfig_OneLineErrorNamingTheFile()
    {
        using var dir = new TempDir();
        string model = dir.File("broken");
        RandomDeepSeekVl.Write(model, RandomDeepSeekVl.TestTiny(), seed: 7);
        File.Delete(Path.Combine(model, "processor_config.json"));
        var r = FurnaceProcess.Run("caption", f.Image, "--model", model, "-t", "1");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("processor_config.json: file not found", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }
}
