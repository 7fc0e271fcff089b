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
}
