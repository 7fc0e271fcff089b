// `furnace quantize --method gptq` end to end on the trained default decoder (models/furnace-captioner-tiny, a LLaVA
// directory: its decoder is converted, then every layer linear the Q4_0 recipe re-encodes is GPTQ'd): the file runs
// under `furnace logits`; and the one-line errors (no --calibration, a missing or empty calibration file, GPTQ options
// with rtn) that leave nothing behind.
using System.Text.Json;
using Furnace.Formats.Gguf;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Cli.Tests;

public sealed class GptqQuantizeCliTests
{
    private const string Text =
        "a red circle next to a blue square on a white background. two small green triangles above a yellow star. " +
        "a dog sitting on the grass in front of a house. a man riding a bicycle down a city street. " +
        "a plate of food with rice and vegetables on a wooden table. a cat sleeping on a couch near a window. ";

    private static string[] Others(TempDir dir, params string[] names) =>
        Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Where(n => !names.Contains(n)).ToArray()!;

    [Fact]
    public void Quantize_GptqQ4_0OfTheDefaultDecoder_LogitsRuns()
    {
        using var dir = new TempDir();
        string calib = dir.File("calib.txt"), output = dir.File("gptq-q4_0.gguf");
        File.WriteAllText(calib, Text + Text);
        var r = FurnaceProcess.Run("quantize", "--in", DefaultModel.Require(), "--out", output, "--type", "Q4_0", "--method", "gptq",
            "--calibration", calib, "--calib-samples", "4", "--calib-ctx", "32", "--act-order", "--threads", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("gptq blk.3.ffn_down.weight", r.Stderr);
        Assert.Contains("gptq: 28 tensors", r.Stderr);
        using (var f = GgufFile.Open(output))
        {
            Assert.Equal(DType.Q4_0, f.FindTensor("blk.0.attn_q.weight")!.Type);
            Assert.Equal(DType.Q4_0, f.FindTensor("blk.3.ffn_down.weight")!.Type);
        }
        Assert.Empty(Others(dir, "calib.txt", "gptq-q4_0.gguf"));

        var l = FurnaceProcess.Run("logits", "--model", output, "--tokens", "1,5,9", "--threads", "1");
        Assert.True(l.ExitCode == 0, l.Stderr);
        using var doc = JsonDocument.Parse(l.Stdout);
        var logits = doc.RootElement.GetProperty("logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(4096, logits.Length);
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
    }

    [Theory]
    [InlineData("missing", "missing.txt: calibration file not found")]
    [InlineData("empty", "empty.txt: the calibration file is empty")]
    [InlineData("none", "--method gptq needs --calibration FILE")]
    [InlineData("rtn", "--calibration and --act-order apply to --method gptq")]
    public void Quantize_GptqBadCalibration_OneLineErrorNothingWritten(string kind, string message)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("empty.txt"), "\n");
        var args = new List<string> { "quantize", "--in", DefaultModel.Require(), "--out", dir.File("x.gguf"), "--type", "Q4_0", "--method", kind == "rtn" ? "rtn" : "gptq" };
        if (kind != "none") args.AddRange(["--calibration", dir.File(kind == "missing" ? "missing.txt" : "empty.txt")]);
        var r = FurnaceProcess.Run([.. args]);
        Assert.Equal(1, r.ExitCode);
        string err = r.Stderr.Trim().Split('\n')[^1];
        Assert.StartsWith("furnace: error: ", err);
        Assert.Contains(message, err);
        Assert.Empty(Others(dir, "empty.txt"));
    }

    [Fact]
    public void Quantize_GptqWithCaptionDataset_CalibratesOnImageSequencesAndRuns()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.File("images"));
        var lines = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            RandomBmp.Write(Path.Combine(dir.File("images"), $"img{i}.bmp"), 32, 32, seed: 20 + i);
            lines.Add(JsonSerializer.Serialize(new { image = $"images/img{i}.bmp", captions = new[] { "a small square of coloured noise", "random pixels" } }));
        }
        string data = dir.File("calib.jsonl"), output = dir.File("gptq.gguf");
        File.WriteAllLines(data, lines);
        var r = FurnaceProcess.Run("quantize", "--in", DefaultModel.Require(), "--out", output, "--type", "Q4_0", "--method", "gptq",
            "--calibration", data, "--calib-samples", "3", "--threads", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("gptq: 28 tensors", r.Stderr);
        var l = FurnaceProcess.Run("logits", "--model", output, "--tokens", "1,5,9", "--threads", "1");
        Assert.True(l.ExitCode == 0, l.Stderr);
    }

    [Fact]
    public void Quantize_GptqCaptionDatasetWithMissingImage_OneLineErrorNamingTheEntry()
    {
        using var dir = new TempDir();
        string data = dir.File("calib.jsonl");
        File.WriteAllLines(data, [JsonSerializer.Serialize(new { id = "ghost", image = "images/nowhere.bmp", captions = new[] { "nothing" } })]);
        var r = FurnaceProcess.Run("quantize", "--in", DefaultModel.Require(), "--out", dir.File("x.gguf"), "--type", "Q4_0", "--method", "gptq", "--calibration", data);
        Assert.Equal(1, r.ExitCode);
        string err = r.Stderr.Trim().Split('\n')[^1];
        Assert.StartsWith("furnace: error: ", err);
        Assert.Contains("nowhere.bmp", err);
        Assert.Empty(Others(dir, "calib.jsonl"));
    }
}
