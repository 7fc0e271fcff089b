// `furnace perplexity` end to end: --file on a tiny random GGUF (llama.cpp's running values and "Final estimate"
// line, --json fields, --kl-divergence), --data on a tiny random LLaVA, and the one-line user errors with exit code 1.
using System.Text.Json;
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Cli.Tests;

public sealed class PerplexityCliFixture : IDisposable
{
    public PerplexityCliFixture()
    {
        var c = new LlamaConfig
        {
            Architecture = "llama", Dim = 64, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 16, FfnDim = 96,
            VocabSize = 320, MaxPositions = 128, RmsEps = 1e-5f, RopeTheta = 10000f,
        }.Validated("test");
        F32 = Dir.File("m-f32.gguf");
        RandomLlama.WriteGguf(F32, c, DType.F32, seed: 3);
        Q4 = Dir.File("m-q4_0.gguf");
        RandomLlama.WriteGguf(Q4, c, DType.Q4_0, seed: 3);
        string[] words = ["the", "a", "cat", "dog", "sat", "on", "mat", "red", "blue", "ran", "to", "park", "and", "slept", "under", "tree"];
        var rng = new Random(2);
        Text = Dir.File("text.txt");
        File.WriteAllText(Text, string.Join(' ', Enumerable.Range(0, 150).Select(_ => words[rng.Next(words.Length)])));
        Short = Dir.File("short.txt");
        File.WriteAllText(Short, "the cat sat on the mat");

        Llava = Dir.File("llava");
        TinyLlava.Write(Llava, seed: 5);
        Directory.CreateDirectory(Dir.File("images"));
        var lines = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            RandomBmp.Write(Dir.File($"images/img{i}.bmp"), 24 + 8 * i, 32, seed: 10 + i);
            lines.Add(JsonSerializer.Serialize(new { image = $"images/img{i}.bmp", captions = new[] { $"picture number {i} of noise", "random coloured pixels" } }));
        }
        Data = Dir.File("noise.jsonl");
        File.WriteAllLines(Data, lines);
        Missing = Dir.File("missing.jsonl");
        File.WriteAllLines(Missing, [lines[0], JsonSerializer.Serialize(new { id = "ghost", image = "images/nowhere.bmp", captions = new[] { "nothing" } })]);
    }

    public TempDir Dir { get; } = new();

    public string F32 { get; }

    public string Q4 { get; }

    public string Text { get; }

    public string Short { get; }

    public string Llava { get; }

    public string Data { get; }

    public string Missing { get; }

    public void Dispose() => Dir.Dispose();
}

public sealed class PerplexityCliTests(PerplexityCliFixture f) : IClassFixture<PerplexityCliFixture>
{
    private static void AssertOneLineError(ProcessResult r, string expected)
    {
        Assert.Equal(1, r.ExitCode);
        string err = r.Stderr.Trim();
        Assert.DoesNotContain('\n', err);
        Assert.StartsWith("furnace: error: ", err);
        Assert.Contains(expected, err);
    }

    [Fact]
    public void File_Json_HasPplNllMeanAndTokens()
    {
        var r = FurnaceProcess.Run("perplexity", "--model", f.F32, "--file", f.Text, "--ctx", "32", "--chunks", "3", "--threads", "2", "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        double ppl = root.GetProperty("ppl").GetDouble(), nll = root.GetProperty("nll_mean").GetDouble();
        Assert.Equal(Math.Exp(nll), ppl, 9);
        Assert.Equal(3 * (32 - 1 - 16), root.GetProperty("tokens").GetInt32());
        Assert.Equal(3, root.GetProperty("chunk_ppl").GetArrayLength());
        Assert.True(root.GetProperty("ppl_uncertainty").GetDouble() > 0);
        Assert.False(root.TryGetProperty("kl_mean", out _));
    }

    [Fact]
    public void File_Text_PrintsRunningValuesAndFinalEstimate()
    {
        var r = FurnaceProcess.Run("perplexity", "-m", f.F32, "-f", f.Text, "-c", "32", "--chunks", "2", "-t", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        string[] lines = r.Stdout.Trim().Split('\n');
        Assert.Matches(@"^\[1\]\d+\.\d{4},\[2\]\d+\.\d{4},$", lines[0]);
        Assert.Matches(@"^Final estimate: PPL = \d+\.\d{4} \+/- \d+\.\d{5}$", lines[1]);
        Assert.Contains("n_ctx=32", r.Stderr);
    }

    [Fact]
    public void File_KlDivergence_JsonHasKlFields()
    {
        var r = FurnaceProcess.Run("perplexity", "--model", f.Q4, "--file", f.Text, "--ctx", "32", "--chunks", "2", "--kl-divergence", f.F32, "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.True(root.GetProperty("kl_mean").GetDouble() > 0);
        double same = root.GetProperty("same_top_p").GetDouble();
        Assert.InRange(same, 0, 1);
        Assert.True(root.GetProperty("kl_median").GetDouble() >= 0);
        Assert.True(root.GetProperty("ppl_base").GetDouble() > 1);
    }

    [Fact]
    public void File_TextShorterThanTwoChunks_OneLineErrorExit1()
    {
        var r = FurnaceProcess.Run("perplexity", "--model", f.F32, "--file", f.Short, "--ctx", "32");
        AssertOneLineError(r, "you need at least 64 tokens to evaluate perplexity with a context of 32; the text tokenizes to only");
    }

    [Fact]
    public void File_Missing_OneLineErrorExit1()
    {
        var r = FurnaceProcess.Run("perplexity", "--model", f.F32, "--file", f.Dir.File("nowhere.txt"));
        AssertOneLineError(r, "nowhere.txt: no such file");
    }

    [Fact]
    public void File_CtxBeyondModel_OneLineErrorExit1()
    {
        var r = FurnaceProcess.Run("perplexity", "--model", f.F32, "--file", f.Text, "--ctx", "256");
        AssertOneLineError(r, "--ctx 256 is larger than the model's context length 128");
    }

    [Fact]
    public void Data_Json_CaptionPerplexityOverEveryReference()
    {
        var r = FurnaceProcess.Run("perplexity", "--model", f.Llava, "--data", f.Data, "--json", "--threads", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var root = doc.RootElement;
        Assert.Equal(6, root.GetProperty("captions").GetInt32());
        Assert.Equal(3, root.GetProperty("images").GetInt32());
        Assert.True(root.GetProperty("tokens").GetInt32() > 6);
        Assert.Equal(Math.Exp(root.GetProperty("nll_mean").GetDouble()), root.GetProperty("ppl").GetDouble(), 9);
    }

    [Fact]
    public void Data_MissingImage_NamesEntryExit1()
    {
        var r = FurnaceProcess.Run("perplexity", "--model", f.Llava, "--data", f.Missing);
        AssertOneLineError(r, "image ghost: file");
    }

    [Fact]
    public void Data_WithKlDivergence_OneLineErrorExit1()
    {
        var r = FurnaceProcess.Run("perplexity", "--model", f.Llava, "--data", f.Data, "--kl-divergence", f.F32);
        AssertOneLineError(r, "--kl-divergence applies to --file, not --data");
    }
}
