using System.Text.Json;

namespace Furnace.Cli.Tests;

public sealed class CliTests
{
    [Fact]
    public void Help_ListsEveryVerbOnceOneLineEachUnderGroups()
    {
        var r = FurnaceProcess.Run("--help");
        Assert.Equal(0, r.ExitCode);
        string[] lines = r.Stdout.Split('\n');
        foreach (string group in new[] { "run a model:", "data and training:", "evaluation and benchmarks:", "serving:", "models and files:" })
            Assert.Contains(group, lines);
        foreach (string verb in new[] { "caption", "ask", "generate", "embed", "similarity", "tokenize", "logits", "data", "train", "lora", "preprocess", "eval", "perplexity", "bench", "serve", "info", "convert", "convert-mmproj", "quantize", "imatrix" })
            Assert.Single(lines, l => l.StartsWith("  " + verb + " ", StringComparison.Ordinal));
        Assert.DoesNotContain("other:", lines);
        Assert.All(lines, l => Assert.True(l.Length <= 140, $"help line longer than 140 characters: {l}"));
    }

    [Fact]
    public void Help_OfAVerb_ShowsItsOptions()
    {
        var r = FurnaceProcess.Run("caption", "--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("--lang", r.Stdout);
        Assert.Contains("Usage:", r.Stdout);
    }

    [Fact]
    public void Logits_MissingModel_OneLineErrorAndExitCode1()
    {
        var r = FurnaceProcess.Run("logits", "--model", "/nonexistent/model.gguf", "--tokens", "1,2");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("furnace: error: /nonexistent/model.gguf: no such file or directory", r.Stderr.Trim());
    }

    [Fact]
    public void Logits_NotAGgufFile_NamesTheFile()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("x.gguf"), "not a model");
        var r = FurnaceProcess.Run("logits", "--model", dir.File("x.gguf"), "--tokens", "1");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"furnace: error: {dir.File("x.gguf")}: not a GGUF file", r.Stderr.Trim());
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    [Fact]
    public void ConvertHfDirectory_ThenGenerate_SameGreedyTextAsTheDirectory()
    {
        using var dir = new TempDir();
        string hf = dir.File("tiny-hf"), gguf = dir.File("x.gguf");
        var cfg = Furnace.Models.Llama.LlamaConfig.Preset("test-tiny");
        Furnace.Models.Llama.RandomLlama.WriteHuggingFace(hf, cfg, Furnace.Tensors.DType.BF16, seed: 2);
        Furnace.Tests.Support.HfTokenizerJson.WriteSynthetic(hf, cfg.VocabSize);

        var c = FurnaceProcess.Run("convert", "--from", hf, "--to", gguf, "--type", "q8_0");
        Assert.True(c.ExitCode == 0, c.Stderr);
        int count = Furnace.Models.Llama.LlamaTensorNames.All(cfg).Count();
        Assert.Contains($"tensor {count}/{count} output.weight", c.Stderr);
        Assert.True(File.Exists(gguf));

        string Generate(string model)
        {
            var r = FurnaceProcess.Run("generate", "-m", model, "--temperature", "0", "-n", "8", "--json", "-p", "hello");
            Assert.True(r.ExitCode == 0, r.Stderr);
            using var doc = JsonDocument.Parse(r.Stdout);
            Assert.Equal(8, doc.RootElement.GetProperty("generated_tokens").GetInt32());
            return doc.RootElement.GetProperty("text").GetString()!;
        }
        string fromGguf = Generate(gguf), fromHf = Generate(hf);
        Assert.NotEmpty(fromGguf);
        Assert.Equal(fromHf, fromGguf);
    }

    [Fact]
    public void ConvertMmproj_LlavaDirectory_WritesClipGguf()
    {
        using var dir = new TempDir();
        string hf = dir.File("llava"), gguf = dir.File("mmproj.gguf");
        Furnace.Models.Clip.RandomClip.WriteLlavaVision(hf, Furnace.Models.Clip.ClipConfig.Preset("test-tiny").Vision, textDim: 48, seed: 1);
        var r = FurnaceProcess.Run("convert-mmproj", "--from", hf, "--to", gguf, "--type", "q8_0");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var f = Furnace.Formats.Gguf.GgufFile.Open(gguf);
        Assert.Equal("clip", f.Architecture);
        Assert.Equal(Furnace.Tensors.DType.Q8_0, f.FindTensor("v.blk.0.attn_q.weight")!.Type);
    }

    [Fact]
    public void ConvertMmproj_NoConfig_OneLineErrorNamingTheFile()
    {
        using var dir = new TempDir();
        var r = FurnaceProcess.Run("convert-mmproj", "--from", dir.Path, "--to", dir.File("x.gguf"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("config.json", r.Stderr);
        Assert.False(File.Exists(dir.File("x.gguf")));
    }

    [Fact]
    public void ConvertHfDirectory_NotADirectoryOfAModel_OneLineError()
    {
        using var dir = new TempDir();
        var r = FurnaceProcess.Run("convert", "--from", dir.Path, "--to", dir.File("x.gguf"), "--type", "f16");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"furnace: error: {dir.Path}: no config.json (not a Hugging Face model directory)", r.Stderr.Trim());
        Assert.False(File.Exists(dir.File("x.gguf")));
    }

    [Fact]
    public void ConvertRandomThenLogits_TinyModel_PrintsJsonWithArgmax()
    {
        using var dir = new TempDir();
        string model = dir.File("tiny.gguf");
        var c = FurnaceProcess.Run("convert", "--from", "random:test-tiny", "--to", model, "--type", "q8_0");
        Assert.True(c.ExitCode == 0, c.Stderr);
        var r = FurnaceProcess.Run("logits", "--model", model, "--tokens", "1,5,9", "--threads", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout);
        var logits = doc.RootElement.GetProperty("logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(320, logits.Length);
        int argmax = doc.RootElement.GetProperty("argmax").GetInt32();
        Assert.Equal(logits.Max(), logits[argmax]);
    }

    [Fact]
    public void Logits_TokenOutsideVocab_ClearError()
    {
        using var dir = new TempDir();
        string model = dir.File("tiny.gguf");
        Assert.Equal(0, FurnaceProcess.Run("convert", "--from", "random:test-tiny", "--to", model, "--type", "f32").ExitCode);
        var r = FurnaceProcess.Run("logits", "--model", model, "--tokens", "1,99999");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("token id 99999 is outside the vocabulary [0, 320)", r.Stderr);
    }

    [Fact]
    public void Convert_BadType_ListsTheValidOnes()
    {
        var r = FurnaceProcess.Run("convert", "--from", "random:test-tiny", "--to", "/tmp/x.gguf", "--type", "q5_k");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("--type 'q5_k' is not one of f32, f16, bf16, q8_0, q4_0", r.Stderr);
    }

    [Fact]
    public void Convert_TargetDirectoryMissing_NoPartialFileAndError()
    {
        var r = FurnaceProcess.Run("convert", "--from", "random:test-tiny", "--to", "/nonexistent-dir/x.gguf", "--type", "f32");
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("does not exist", r.Stderr);
    }

    [Fact]
    public void BenchLlm_TinyModel_PrintsOneJsonLine()
    {
        using var dir = new TempDir();
        string model = dir.File("tiny.gguf");
        Assert.Equal(0, FurnaceProcess.Run("convert", "--from", "random:test-tiny", "--to", model, "--type", "q4_0").ExitCode);
        var r = FurnaceProcess.Run("bench", "llm", "--model", model, "--threads", "1", "--prompt", "16", "--gen", "4");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var doc = JsonDocument.Parse(r.Stdout.Trim());
        Assert.True(doc.RootElement.GetProperty("decode_tok_s").GetDouble() > 0);
        Assert.True(doc.RootElement.GetProperty("peak_rss_mb").GetDouble() > 0);
    }
}
