// `furnace caption`, `ask`, `embed` and `similarity` end to end on tiny random checkpoints written in the real
// layouts (a LLaVA directory; a composed decoder + CLIP + projector; a CLIP model with a BPE vocabulary): exit codes,
// output shapes and the one-line errors for a missing model, a file that is no image and a placeholder mismatch.
using System.Text.Json;
using Furnace.Models.Clip;
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Cli.Tests;

public sealed class VlmCliFixture : IDisposable
{
    public VlmCliFixture()
    {
        Llava = Dir.File("llava");
        TinyLlava.Write(Llava, seed: 5);

        Llm = Dir.File("llm");
        RandomLlama.WriteHuggingFace(Llm, LlamaConfig.Preset("test-tiny"), DType.F32, seed: 3);
        HfTokenizerJson.WriteSynthetic(Llm, 320);

        Clip = Dir.File("clip");
        var tiny = ClipConfig.Preset("test-tiny");
        var vocab = new Dictionary<string, int>();
        foreach (char c in "abcdefghijklmnopqrstuvwxyz0123456789!?.,'") vocab[c.ToString()] = vocab.Count;
        foreach (char c in "abcdefghijklmnopqrstuvwxyz0123456789!?.,'") vocab[c + "</w>"] = vocab.Count;
        vocab["<|startoftext|>"] = vocab.Count;
        vocab["<|endoftext|>"] = vocab.Count;
        var clipConfig = tiny with { Text = tiny.Text! with { BosTokenId = vocab.Count - 2, EosTokenId = vocab.Count - 1, PadTokenId = vocab.Count - 1 } };
        RandomClip.WriteHuggingFace(Clip, clipConfig, seed: 9);
        File.WriteAllText(Path.Combine(Clip, "vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllLines(Path.Combine(Clip, "merges.txt"), ["#version: 0.2"]);

        Projector = Dir.File("projector.safetensors");
        RandomLlava.WriteProjector(Projector, clipConfig.Vision.HiddenSize, 64, seed: 4);

        ImageA = Dir.File("a.bmp");
        ImageB = Dir.File("b.bmp");
        RandomBmp.Write(ImageA, 40, 30, 1);
        RandomBmp.Write(ImageB, 32, 48, 2);
        NotImage = Dir.File("notes.txt");
        File.WriteAllText(NotImage, "this is not an image");
    }

    public TempDir Dir { get; } = new();

    public string Llava { get; }

    public string Llm { get; }

    public string Clip { get; }

    public string Projector { get; }

    public string ImageA { get; }

    public string ImageB { get; }

    public string NotImage { get; }

    public void Dispose() => Dir.Dispose();
}

public sealed class VlmCliTests : IClassFixture<VlmCliFixture>
{
    private readonly VlmCliFixture _f;

    public VlmCliTests(VlmCliFixture f) => _f = f;

    private static JsonElement[] JsonLines(string stdout) =>
        stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToArray();

    [Fact]
    public void Caption_JsonPerImage_WithProgress()
    {
        var r = FurnaceProcess.Run("caption", _f.ImageA, _f.ImageB, "--model", _f.Llava, "--max-tokens", "8", "--json", "-t", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = JsonLines(r.Stdout);
        Assert.Equal(2, lines.Length);
        Assert.Equal(_f.ImageA, lines[0].GetProperty("image").GetString());
        Assert.Equal(_f.ImageB, lines[1].GetProperty("image").GetString());
        foreach (var l in lines)
        {
            Assert.Equal(JsonValueKind.String, l.GetProperty("caption").ValueKind);
            Assert.InRange(l.GetProperty("tokens").GetInt32(), 1, 8);
            Assert.True(l.GetProperty("ms").GetInt64() >= 0);
            Assert.InRange(l.GetProperty("ttft_ms").GetInt64(), 0, l.GetProperty("ms").GetInt64());
            Assert.True(l.GetProperty("peak_rss_mb").GetDouble() > 0);
        }
        Assert.Contains("[2/2]", r.Stderr);
    }

    [Fact]
    public void Caption_Chinese_And_Text()
    {
        var r = FurnaceProcess.Run("caption", _f.ImageA, "--model", _f.Llava, "--lang", "zh", "-n", "4");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var bad = FurnaceProcess.Run("caption", _f.ImageA, "--model", _f.Llava, "--lang", "fr");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("--lang 'fr'", bad.Stderr);
    }

    // samples/images/… in the checkout (found upwards from the test binary), the first held-out scene "two lollipops to
    // the left of a rabbit, on a background fading from orange at the top to black at the bottom"; the tiny model names
    // the lollipops, the relation and the orange top, not the rabbit (a pairing it never saw)
    private const string DefaultModelSampleFile = "lollipops-and-rabbit.png";
    private const string DefaultModelSampleWord = "lollipops to the left of";

    private static string DefaultModelSample
    {
        get
        {
            for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            {
                string p = Path.Combine(d.FullName, "samples", "images", DefaultModelSampleFile);
                if (File.Exists(p)) return p;
            }
            throw new FileNotFoundException($"samples/images/{DefaultModelSampleFile} not found above {AppContext.BaseDirectory}");
        }
    }

    [Fact]
    public void Caption_WithoutModel_UsesTheEmbeddedDefaultModel()
    {
        // the README's first command: the shipped sample (a held-out scene) with models/furnace-captioner-tiny
        var r = FurnaceProcess.Run("caption", DefaultModelSample, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = System.Text.Json.JsonDocument.Parse(r.Stdout.Trim().Split('\n')[0]);
        string caption = doc.RootElement.GetProperty("caption").GetString()!;
        Assert.Contains(DefaultModelSampleWord, caption);
    }

    [Fact]
    public void Caption_WithoutModel_Chinese_IsChinese()
    {
        var r = FurnaceProcess.Run("caption", DefaultModelSample, "--lang", "zh");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains(r.Stdout, c => c is >= '\u4e00' and <= '\u9fff');
    }

    [Fact]
    public void Caption_ComposeWithoutModel_SaysTheDecoderIsNeeded()
    {
        var r = FurnaceProcess.Run("caption", _f.ImageA, "--vision", _f.Dir.Path, "--projector", "p.safetensors");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("furnace: error: composing a model needs --model", r.Stderr);
    }

    [Fact]
    public void Caption_NotAnImage_FailsNamingTheFile()
    {
        var r = FurnaceProcess.Run("caption", _f.NotImage, "--model", _f.Llava);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("notes.txt", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Caption_Composed_FromDecoderClipAndProjector()
    {
        var r = FurnaceProcess.Run("caption", _f.ImageA, "--model", _f.Llm, "--vision", _f.Clip, "--projector", _f.Projector, "-n", "4", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Single(JsonLines(r.Stdout));
        var half = FurnaceProcess.Run("caption", _f.ImageA, "--model", _f.Llm, "--vision", _f.Clip);
        Assert.Equal(1, half.ExitCode);
        Assert.Contains("--projector", half.Stderr);
    }

    [Fact]
    public void Ask_Json_And_PlaceholderMismatch()
    {
        var r = FurnaceProcess.Run("ask", _f.ImageA, "What is this?", "--model", _f.Llava, "-n", "5", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var j = JsonLines(r.Stdout).Single();
        Assert.Equal("What is this?", j.GetProperty("question").GetString());
        Assert.Equal(JsonValueKind.String, j.GetProperty("answer").ValueKind);
        Assert.True(j.GetProperty("prompt_tokens").GetInt32() > 16); // 16 image rows + the text

        var streamed = FurnaceProcess.Run("ask", _f.ImageA, "<image>\nWhat is this?", "--model", _f.Llava, "-n", "3");
        Assert.True(streamed.ExitCode == 0, streamed.Stderr);

        var mismatch = FurnaceProcess.Run("ask", _f.ImageA, "<image> or <image>?", "--model", _f.Llava);
        Assert.Equal(1, mismatch.ExitCode);
        Assert.Contains("2 <image> placeholders but 1 image", mismatch.Stderr);
    }

    [Fact]
    public void Embed_Clip_Json()
    {
        var r = FurnaceProcess.Run("embed", _f.ImageA, _f.ImageB, "--model", _f.Clip, "--json", "--normalize");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = JsonLines(r.Stdout);
        Assert.Equal(2, lines.Length);
        foreach (var l in lines)
        {
            Assert.Equal(32, l.GetProperty("dim").GetInt32());
            double[] v = l.GetProperty("embedding").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            Assert.Equal(32, v.Length);
            Assert.Equal(1.0, Math.Sqrt(v.Sum(x => x * x)), 4);
        }
        var none = FurnaceProcess.Run("embed", _f.ImageA);
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("--model is required", none.Stderr);
    }

    [Fact]
    public void Similarity_ScoresAndProbabilities()
    {
        var r = FurnaceProcess.Run("similarity", _f.ImageA, "a cat", "a dog", "red", "--model", _f.Clip, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var j = JsonLines(r.Stdout).Single();
        var results = j.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(["a cat", "a dog", "red"], results.Select(x => x.GetProperty("text").GetString()!).ToArray());
        Assert.Equal(1.0, results.Sum(x => x.GetProperty("probability").GetDouble()), 4);
        var text = FurnaceProcess.Run("similarity", _f.ImageA, "a cat", "a dog", "--model", _f.Clip);
        Assert.True(text.ExitCode == 0, text.Stderr);
        Assert.Equal(2, text.Stdout.Trim().Split('\n').Length);
        var notImage = FurnaceProcess.Run("similarity", _f.NotImage, "a cat", "--model", _f.Clip);
        Assert.Equal(1, notImage.ExitCode);
    }
}
