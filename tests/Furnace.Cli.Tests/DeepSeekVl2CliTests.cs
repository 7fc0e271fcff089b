// `furnace caption` / `ask` on a tiny random DeepSeek-VL2 directory in the published layout (RandomDeepSeekVl2 with a
// byte-level tokenizer holding every byte and VL2's special tokens), and the one-line refusal of what is not joined yet.
using Furnace.Models.DeepSeekVl2;
using Furnace.Tests.Support;

namespace Furnace.Cli.Tests;

public sealed class DeepSeekVl2CliTests
{
    private static string WriteModel(TempDir dir)
    {
        string model = dir.File("vl2");
        var (config, processor) = RandomDeepSeekVl2.TestPreset();
        RandomDeepSeekVl2.WriteHuggingFace(model, config, processor, seed: 3);
        // GPT-2's byte-level alphabet: every byte is one piece, so any text tokenizes
        var bytes = new List<string>();
        int n = 0;
        for (int b = 0; b < 256; b++)
        {
            bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            bytes.Add(((char)(printable ? b : 256 + n++)).ToString());
        }
        // two-letter pieces up to the decoder's vocabulary (320), so every id it can generate decodes
        for (int i = 0; bytes.Count < 256 + 51; i++) bytes.Add($"{(char)('a' + i / 26)}{(char)('a' + i % 26)}");
        Assert.Equal(config.Language.VocabSize, DeepSeekVl2Fixture.WriteTokenizer(model, bytes));
        return model;
    }

    [Fact]
    public void Caption_DeepSeekVl2Directory_PrintsCaption()
    {
        using var dir = new TempDir();
        string model = WriteModel(dir);
        string image = dir.File("a.bmp");
        RandomBmp.Write(image, 40, 30, 1);
        var r = FurnaceProcess.Run("caption", image, "--model", model, "--max-tokens", "5", "-t", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var a = FurnaceProcess.Run("ask", image, "What is this?", "--model", model, "--max-tokens", "5", "-t", "1");
        Assert.True(a.ExitCode == 0, a.Stderr);
    }

    [Fact]
    public void Caption_DeepSeekVl2WithJson_OneLineError()
    {
        using var dir = new TempDir();
        string model = WriteModel(dir);
        string image = dir.File("a.bmp");
        RandomBmp.Write(image, 40, 30, 1);
        var r = FurnaceProcess.Run("caption", image, "--model", model, "--json", "-t", "1");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("DeepSeek-VL2", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Ask_DeepSeekVl2PlaceholdersDifferFromImages_OneLineError()
    {
        using var dir = new TempDir();
        string model = WriteModel(dir);
        string image = dir.File("a.bmp");
        RandomBmp.Write(image, 40, 30, 1);
        var r = FurnaceProcess.Run("ask", image, "<image><image> Which is larger?", "--model", model, "-t", "1");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("2 <image> placeholder(s) but 1 image(s)", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }
}
