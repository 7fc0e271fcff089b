// `furnace bench vision` and `furnace bench train` at tiny sizes: the JSON line's fields, FLOP counts equal to the
// library's, and one-line refusals of absurd values and of the bf16 modes that have no compute path. No timings are
// asserted; no waiting for an idle machine (--idle-wait 0: the test host runs other tests beside it).
using System.Text.Json;
using Furnace.Models.Clip;
using Furnace.Models.Llama;

namespace Furnace.Cli.Tests;

public sealed class BenchCliTests
{
    private static JsonElement Json(ProcessResult r)
    {
        Assert.True(r.ExitCode == 0, r.Stderr);
        string[] lines = r.Stdout.Trim().Split('\n');
        Assert.Single(lines);
        return JsonDocument.Parse(lines[0]).RootElement.Clone();
    }

    private static void AssertReps(JsonElement j, int reps, params string[] figures)
    {
        Assert.Equal(reps, j.GetProperty("reps").GetInt32());
        foreach (string f in figures)
        {
            Assert.True(j.GetProperty(f).GetDouble() > 0, f);
            Assert.Equal(reps, j.GetProperty(f + "_reps").GetArrayLength());
        }
        Assert.InRange(j.GetProperty("other_cpu_pct").GetDouble(), 0, 100);
        Assert.True(j.GetProperty("peak_rss_mb").GetDouble() > 0);
    }

    private static void AssertOneLineError(ProcessResult r, string expected)
    {
        Assert.Equal(1, r.ExitCode);
        Assert.Contains(expected, r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.Equal("", r.Stdout.Trim());
    }

    [Fact]
    public void BenchVision_ClipDirectory_JsonHasThroughputAndConfigFlops()
    {
        using var dir = new TempDir();
        TinyClipCheckpoint.Write(dir.File("clip"));
        RandomBmp.Write(dir.File("img.bmp"), 40, 30, seed: 5);
        JsonElement j = Json(FurnaceProcess.Run("bench", "vision", "--model", dir.File("clip"), "--image", dir.File("img.bmp"),
            "--threads", "1", "--runs", "2", "--batch", "3", "--idle-wait", "0", "--json"));
        AssertReps(j, 2, "ms_per_image", "images_per_s", "gflops");
        Assert.Equal("clip", j.GetProperty("kind").GetString());
        Assert.Equal(3, j.GetProperty("batch").GetInt32());
        Assert.Equal(32, j.GetProperty("image_size").GetInt32());
        ClipConfig c = ClipConfig.Preset("test-tiny");
        double flops = ClipVisionFlops.Tower(c.Vision, c.Vision.Layers) + ClipVisionFlops.Linear(1, c.Vision.HiddenSize, c.ProjectionDim!.Value);
        Assert.Equal(Math.Round(flops / 1e9, 6), j.GetProperty("gflop_per_image").GetDouble());
        // the figures are of one rep: GFLOP/s = FLOPs per image x images/s (up to the 2-digit rounding)
        double implied = flops / 1e9 * j.GetProperty("images_per_s").GetDouble();
        Assert.InRange(j.GetProperty("gflops").GetDouble(), implied * 0.95 - 0.01, implied * 1.05 + 0.01);
    }

    [Fact]
    public void BenchVision_Mmproj_CountsTowerAndProjector()
    {
        using var dir = new TempDir();
        ClipVisionConfig v = ClipConfig.Preset("test-tiny").Vision;
        RandomClip.WriteLlavaVision(dir.File("llava"), v, textDim: 48, seed: 1);
        ClipMmprojExport.FromHuggingFace(dir.File("llava"), dir.File("mmproj.gguf"), Furnace.Tensors.DType.F32);
        RandomBmp.Write(dir.File("img.bmp"), 32, 32, seed: 6);
        JsonElement j = Json(FurnaceProcess.Run("bench", "vision", "--model", dir.File("mmproj.gguf"), "--image", dir.File("img.bmp"),
            "--threads", "1", "--runs", "1", "--idle-wait", "0", "--json"));
        AssertReps(j, 1, "ms_per_image", "images_per_s", "gflops");
        Assert.Equal("mmproj", j.GetProperty("kind").GetString());
        Assert.Equal(v.Positions, j.GetProperty("tokens_per_image").GetInt32());
        // the LLaVA export keeps the layers up to feature layer -2; the projector is 64 -> 48 -> 48 over the patches
        double flops = ClipVisionFlops.Tower(v, v.Layers - 1) + ClipVisionFlops.Linear(v.Patches, v.HiddenSize, 48) + ClipVisionFlops.Linear(v.Patches, 48, 48);
        Assert.Equal(Math.Round(flops / 1e9, 6), j.GetProperty("gflop_per_image").GetDouble());
    }

    [Fact]
    public void BenchVision_ComputeBf16_RefusedWithOneLine()
    {
        using var dir = new TempDir();
        TinyClipCheckpoint.Write(dir.File("clip"));
        RandomBmp.Write(dir.File("img.bmp"), 32, 32, seed: 5);
        AssertOneLineError(FurnaceProcess.Run("bench", "vision", "--model", dir.File("clip"), "--image", dir.File("img.bmp"), "--compute", "bf16", "--json"),
            "--compute bf16: the vision encoder has no bf16 compute path yet");
    }

    [Theory]
    [InlineData("--batch", "0", "--batch 0 must be between 1 and 4096")]
    [InlineData("--runs", "0", "--runs 0 must be between 1 and 1000")]
    [InlineData("--threads", "-3", "--threads -3 must be between 1 and 1024")]
    [InlineData("--compute", "f8", "--compute 'f8' must be f32 or bf16")]
    [InlineData("--idle-wait", "-1", "--idle-wait -1 must be between 0 and 3600 seconds")]
    public void BenchVision_AbsurdValue_OneLineError(string option, string value, string expected)
    {
        using var dir = new TempDir();
        TinyClipCheckpoint.Write(dir.File("clip"));
        RandomBmp.Write(dir.File("img.bmp"), 32, 32, seed: 5);
        AssertOneLineError(FurnaceProcess.Run("bench", "vision", "--model", dir.File("clip"), "--image", dir.File("img.bmp"), option, value), expected);
    }

    [Fact]
    public void BenchVision_MissingImage_OneLineErrorNamingIt()
    {
        using var dir = new TempDir();
        TinyClipCheckpoint.Write(dir.File("clip"));
        var r = FurnaceProcess.Run("bench", "vision", "--model", dir.File("clip"), "--image", dir.File("nope.png"));
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("nope.png", r.Stderr);
    }

    private static readonly string[] TinyTrain = ["--dim", "32", "--layers", "2", "--heads", "4", "--kv-heads", "2", "--ffn", "48", "--vocab", "64", "--batch", "2", "--seq", "8", "--threads", "1", "--idle-wait", "0"];

    [Fact]
    public void BenchTrain_FullTiny_JsonHasThroughputFlopsAndFiniteLoss()
    {
        JsonElement j = Json(FurnaceProcess.Run(["bench", "train", .. TinyTrain, "--steps", "2", "--json"]));
        AssertReps(j, 2, "ms_per_step", "tokens_per_s", "gflops");
        Assert.Equal("full", j.GetProperty("mode").GetString());
        Assert.Equal(16, j.GetProperty("tokens_per_step").GetInt32());
        var c = new LlamaConfig { Architecture = "llama", Dim = 32, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 8, FfnDim = 48, VocabSize = 64, MaxPositions = 8 };
        Assert.Equal(Math.Round(LlamaTrainingFlops.Step(c, 2, 8) / 1e9, 6), j.GetProperty("gflop_per_step").GetDouble());
        Assert.Equal(c.ParameterCount, j.GetProperty("trained_parameters").GetInt64());
        double first = j.GetProperty("loss_first").GetDouble(), last = j.GetProperty("loss_last").GetDouble();
        Assert.True(double.IsFinite(first) && double.IsFinite(last));
        Assert.InRange(first, Math.Log(64) - 1, Math.Log(64) + 1); // random init: near ln(vocab)
    }

    [Fact]
    public void BenchTrain_Lora_TrainsOnlyTheAdapters()
    {
        JsonElement j = Json(FurnaceProcess.Run(["bench", "train", .. TinyTrain, "--steps", "1", "--lora", "2", "--json"]));
        AssertReps(j, 1, "ms_per_step", "tokens_per_s", "gflops");
        Assert.Equal("lora", j.GetProperty("mode").GetString());
        long trained = j.GetProperty("trained_parameters").GetInt64();
        // rank 2 on q, k, v, o, gate, up, down of 2 layers: r·(in + out) each
        long expected = 2 * 2 * ((32 + 32) + (32 + 16) + (32 + 16) + (32 + 32) + 2 * (32 + 48) + (48 + 32));
        Assert.Equal(expected, trained);
    }

    [Fact]
    public void BenchTrain_PrecisionBf16_RefusedWithOneLine() =>
        AssertOneLineError(FurnaceProcess.Run(["bench", "train", .. TinyTrain, "--precision", "bf16"]),
            "--precision bf16: training has no bf16 mixed-precision path yet");

    [Theory]
    [InlineData("--dim", "1000000", "--dim 1000000 must be between 2 and 65536")]
    [InlineData("--heads", "3", "--dim 32 must be a multiple of --heads 3")]
    [InlineData("--kv-heads", "3", "--kv-heads 3 must divide --heads 4")]
    [InlineData("--seq", "1", "--seq 1 must be between 2 and 65536")]
    [InlineData("--batch", "0", "--batch 0 must be between 1 and 4096")]
    [InlineData("--steps", "0", "--steps 0 must be between 1 and 1000")]
    [InlineData("--lora", "-1", "--lora -1 must be between 0 and 32")]
    [InlineData("--vocab", "1", "--vocab 1 must be between 2 and 4194304")]
    public void BenchTrain_AbsurdValue_OneLineError(string option, string value, string expected)
    {
        var args = TinyTrain.ToList();
        int i = args.IndexOf(option);
        if (i >= 0) args[i + 1] = value;
        else args.AddRange([option, value]);
        AssertOneLineError(FurnaceProcess.Run(["bench", "train", .. args]), expected);
    }

    [Fact]
    public void BenchLlm_JsonFlag_AcceptedAsByTheOtherVerbs()
    {
        using var dir = new TempDir();
        string model = dir.File("tiny.gguf");
        Assert.Equal(0, FurnaceProcess.Run("convert", "--from", "random:test-tiny", "--to", model, "--type", "q8_0").ExitCode);
        JsonElement j = Json(FurnaceProcess.Run("bench", "llm", "--model", model, "--threads", "1", "--prompt", "8", "--gen", "2", "--reps", "1", "--idle-wait", "0", "--json"));
        AssertReps(j, 1, "prefill_tok_s", "decode_tok_s");
    }
}
