// The furnace command on a tiny random deepseek2 (MLA + DeepSeekMoE) GGUF written by `furnace convert --from random:`.
using System.Text.Json;
using Furnace.Formats.Gguf;
using Furnace.Models.DeepSeek;
using Furnace.Tensors;

namespace Furnace.Cli.Tests;

public sealed class DeepSeekCliTests
{
    [Fact]
    public void ConvertInfoLogitsGenerate_RandomV3Q8_0_RunEndToEndAndAgreeWithTheLibrary()
    {
        using var dir = new TempDir();
        string gguf = dir.File("v3.gguf");
        var c = FurnaceProcess.Run("convert", "--from", "random:test-v3", "--to", gguf, "--type", "q8_0", "--seed", "3");
        Assert.True(c.ExitCode == 0, c.Stderr);

        var info = FurnaceProcess.Run("info", gguf);
        Assert.True(info.ExitCode == 0, info.Stderr);
        Assert.Contains("deepseek2 (MLA + DeepSeekMoE)", info.Stdout);
        Assert.Contains("KV cache 576 bytes/token", info.Stdout);

        var logits = FurnaceProcess.Run("logits", "-m", gguf, "--tokens", "1,40,41,42");
        Assert.True(logits.ExitCode == 0, logits.Stderr);
        using (var doc = JsonDocument.Parse(logits.Stdout))
        {
            using var model = DeepSeekModel.FromGguf(GgufFile.Open(gguf));
            var state = model.NewState(16);
            using var ctx = new KernelContext(1);
            model.Forward([1, 40, 41, 42], state, ctx);
            int expected = 0;
            for (int v = 1; v < model.VocabSize; v++) if (state.Logits[v] > state.Logits[expected]) expected = v;
            Assert.Equal(expected, doc.RootElement.GetProperty("argmax").GetInt32());
        }

        var gen = FurnaceProcess.Run("generate", "-m", gguf, "--temperature", "0", "-n", "8", "--json", "-p", "hello");
        Assert.True(gen.ExitCode == 0, gen.Stderr);
        using (var doc = JsonDocument.Parse(gen.Stdout))
        {
            Assert.Equal(8, doc.RootElement.GetProperty("generated_tokens").GetInt32());
            Assert.Equal("length", doc.RootElement.GetProperty("finish_reason").GetString());
        }
    }

    [Fact]
    public void ConvertInfoLogitsGenerateTokenize_RandomMhaQ8_0_RunOnTheDeepseekArch()
    {
        // DeepSeekMoE with plain multi-head attention (llama.cpp arch "deepseek", DeepSeek-MoE-16B's layout)
        using var dir = new TempDir();
        string gguf = dir.File("mha.gguf");
        var c = FurnaceProcess.Run("convert", "--from", "random:test-mha", "--to", gguf, "--type", "q8_0", "--seed", "3");
        Assert.True(c.ExitCode == 0, c.Stderr);

        var info = FurnaceProcess.Run("info", gguf);
        Assert.True(info.ExitCode == 0, info.Stderr);
        Assert.Contains("deepseek (multi-head attention + DeepSeekMoE)", info.Stdout);
        Assert.Contains("KV cache 768 bytes/token", info.Stdout); // 3 layers x (k + v) x 2 kv heads x 16 x 4 bytes

        var logits = FurnaceProcess.Run("logits", "-m", gguf, "--tokens", "1,40,41,42");
        Assert.True(logits.ExitCode == 0, logits.Stderr);
        using (var doc = JsonDocument.Parse(logits.Stdout))
        {
            using var model = DeepSeekModel.FromGguf(GgufFile.Open(gguf));
            var state = model.NewState(16);
            using var ctx = new KernelContext(1);
            model.Forward([1, 40, 41, 42], state, ctx);
            int expected = 0;
            for (int v = 1; v < model.VocabSize; v++) if (state.Logits[v] > state.Logits[expected]) expected = v;
            Assert.Equal(expected, doc.RootElement.GetProperty("argmax").GetInt32());
        }

        var gen = FurnaceProcess.Run("generate", "-m", gguf, "--temperature", "0", "-n", "8", "--json", "-p", "hello");
        Assert.True(gen.ExitCode == 0, gen.Stderr);
        using (var doc = JsonDocument.Parse(gen.Stdout)) Assert.Equal(8, doc.RootElement.GetProperty("generated_tokens").GetInt32());

        var tok = FurnaceProcess.Run("tokenize", "-m", gguf, "hello");
        Assert.True(tok.ExitCode == 0, tok.Stderr);
    }

    [Fact]
    public void PerplexityAndTokenize_RandomV2LiteF32_RunOnDeepSeek2()
    {
        using var dir = new TempDir();
        string gguf = dir.File("v2.gguf"), text = dir.File("text.txt");
        Assert.Equal(0, FurnaceProcess.Run("convert", "--from", "random:test-v2-lite", "--to", gguf, "--type", "f32", "--seed", "4").ExitCode);
        File.WriteAllText(text, string.Concat(Enumerable.Range(0, 80).Select(i => $"word{i % 13} and more text {i}. ")));

        var tok = FurnaceProcess.Run("tokenize", "-m", gguf, "--json", "hello world");
        Assert.True(tok.ExitCode == 0, tok.Stderr);
        using (var doc = JsonDocument.Parse(tok.Stdout))
        {
            int[] ids = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var expected = Furnace.Formats.Tokenizers.Tokenizer.Open(gguf).Encode("hello world");
            Assert.Equal(expected, ids);
        }

        var ppl = FurnaceProcess.Run("perplexity", "-m", gguf, "-f", text, "-c", "32", "--chunks", "2", "-t", "1", "--json");
        Assert.True(ppl.ExitCode == 0, ppl.Stderr);
        using (var doc = JsonDocument.Parse(ppl.Stdout))
        {
            // the library's llama.cpp-method perplexity over the same decoder, text and settings
            var tokenizer = Furnace.Formats.Tokenizers.Tokenizer.Open(gguf);
            int[] tokens = Furnace.Evaluation.Perplexity.TextPerplexity.Tokenize(tokenizer, File.ReadAllText(text));
            using var model = Furnace.Models.ModelLoader.OpenDecoder(gguf);
            using var ctx = new KernelContext(1);
            var expected = Furnace.Evaluation.Perplexity.TextPerplexity.Run(model, tokens, Furnace.Evaluation.Perplexity.TextPerplexity.ChunkBos(tokenizer),
                new Furnace.Evaluation.Perplexity.TextPerplexityOptions { Context = 32, Chunks = 2 }, ctx);
            double value = doc.RootElement.GetProperty("ppl").GetDouble();
            Assert.True(value > 1 && double.IsFinite(value), $"ppl {value}");
            Assert.Equal(expected.Ppl, value, 6);
        }
    }

    [Fact]
    public void Generate_ThinkHideWithR1Template_AnswerEmptyAndReasoningIsTheShownText()
    {
        // the R1 template opens "<think>" in the prompt; a random model never closes it, so everything is reasoning
        using var dir = new TempDir();
        string gguf = dir.File("v3.gguf");
        Assert.Equal(0, FurnaceProcess.Run("convert", "--from", "random:test-v3", "--to", gguf, "--type", "f32", "--seed", "2").ExitCode);
        string[] common = ["generate", "-m", gguf, "--chat", "--template", "deepseek-r1", "--temperature", "0", "-n", "12", "--json", "-p", "hi"];
        var show = FurnaceProcess.Run([.. common, "--think", "show"]);
        var hide = FurnaceProcess.Run([.. common, "--think", "hide"]);
        Assert.True(show.ExitCode == 0, show.Stderr);
        Assert.True(hide.ExitCode == 0, hide.Stderr);
        using var s = JsonDocument.Parse(show.Stdout);
        using var h = JsonDocument.Parse(hide.Stdout);
        string shown = s.RootElement.GetProperty("text").GetString()!;
        Assert.NotEqual("", shown);
        Assert.DoesNotContain("</think>", shown);
        Assert.False(s.RootElement.TryGetProperty("reasoning_content", out _));
        Assert.Equal("", h.RootElement.GetProperty("text").GetString());
        Assert.Equal(shown, h.RootElement.GetProperty("reasoning_content").GetString());

        var bad = FurnaceProcess.Run([.. common, "--think", "maybe"]);
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--think 'maybe' is not one of show, hide", bad.Stderr);
    }
}
