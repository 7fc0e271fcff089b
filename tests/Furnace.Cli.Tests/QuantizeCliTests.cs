// `furnace quantize` end to end: a tiny random F32 GGUF to Q4_K_M that `furnace logits` then runs, Hugging Face and LLaVA
// directories, --force, and the one-line errors (unknown recipe, quantized input, an imatrix of another model) that leave
// nothing behind (no output, no temp file).
using System.Text.Json;
using Furnace.Formats.Gguf;
using Furnace.Models.Llama;
using Furnace.Quantization;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Cli.Tests;

public sealed class QuantizeCliTests
{
    private static readonly LlamaConfig Tiny = new LlamaConfig
    {
        Architecture = "llama", Dim = 256, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 64, FfnDim = 512,
        VocabSize = 320, MaxPositions = 128, RmsEps = 1e-5f, RopeTheta = 10000f,
    }.Validated("test");

    private static string F32(TempDir dir)
    {
        string path = dir.File("tiny-f32.gguf");
        RandomLlama.WriteGguf(path, Tiny, DType.F32, seed: 4);
        return path;
    }

    // everything in dir but the files named
    private static string[] Others(TempDir dir, params string[] names) =>
        Directory.GetFileSystemEntries(dir.Path).Select(Path.GetFileName).Where(n => !names.Contains(n)).ToArray()!;

    [Fact]
    public void Quantize_Q4_K_M_SummaryThenLogitsRuns()
    {
        using var dir = new TempDir();
        string input = F32(dir), output = dir.File("tiny-q4_k_m.gguf");
        var r = FurnaceProcess.Run("quantize", "--in", input, "--out", output, "--type", "q4_k_m", "--threads", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal($"wrote {output} (Q4_K_M)", r.Stdout.Trim());
        Assert.Contains("bits per weight", r.Stderr);
        Assert.Contains("q4_K", r.Stderr);
        using (var f = GgufFile.Open(output))
        {
            Assert.Equal((long)QuantFileType.Q4_K_M, f.GetInt("general.file_type"));
            Assert.Equal(DType.Q6_K, f.FindTensor("output.weight")!.Type);
            Assert.Equal(DType.Q4_K, f.FindTensor("blk.0.attn_q.weight")!.Type);
            Assert.Equal(DType.F32, f.FindTensor("blk.0.attn_norm.weight")!.Type);
        }
        Assert.Empty(Others(dir, "tiny-f32.gguf", "tiny-q4_k_m.gguf"));

        var l = FurnaceProcess.Run("logits", "--model", output, "--tokens", "1,5,9", "--threads", "1");
        Assert.True(l.ExitCode == 0, l.Stderr);
        using var doc = JsonDocument.Parse(l.Stdout);
        var logits = doc.RootElement.GetProperty("logits").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        Assert.Equal(320, logits.Length);
        Assert.All(logits, v => Assert.True(float.IsFinite(v)));
    }

    [Fact]
    public void Quantize_OutputExists_RefusesWithoutForce()
    {
        using var dir = new TempDir();
        string input = F32(dir), output = dir.File("out.gguf");
        File.WriteAllText(output, "keep me");
        var r = FurnaceProcess.Run("quantize", "--in", input, "--out", output, "--type", "Q8_0");
        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"furnace: error: {output} exists (add --force to overwrite)", r.Stderr.Trim());
        Assert.Equal("keep me", File.ReadAllText(output));

        var forced = FurnaceProcess.Run("quantize", "--in", input, "--out", output, "--type", "Q8_0", "--force");
        Assert.True(forced.ExitCode == 0, forced.Stderr);
        using var f = GgufFile.Open(output);
        Assert.Equal(DType.Q8_0, f.FindTensor("blk.1.ffn_down.weight")!.Type);
    }

    [Fact]
    public void Quantize_UnknownType_OneLineErrorNothingWritten()
    {
        using var dir = new TempDir();
        string input = F32(dir);
        var r = FurnaceProcess.Run("quantize", "--in", input, "--out", dir.File("x.gguf"), "--type", "Q9_K");
        Assert.Equal(1, r.ExitCode);
        string err = r.Stderr.Trim();
        Assert.StartsWith("furnace: error: --type 'Q9_K' is not a recipe (one of F32, F16, Q4_0", err);
        Assert.DoesNotContain('\n', err);
        Assert.Empty(Others(dir, "tiny-f32.gguf"));
    }

    [Fact]
    public void Quantize_QuantizedInput_OneLineErrorNoTempFileLeft()
    {
        using var dir = new TempDir();
        string input = dir.File("q4.gguf");
        RandomLlama.WriteGguf(input, Tiny, DType.Q4_0, seed: 4);
        var r = FurnaceProcess.Run("quantize", "--in", input, "--out", dir.File("x.gguf"), "--type", "Q4_K_M");
        Assert.Equal(1, r.ExitCode);
        string err = r.Stderr.Trim();
        Assert.Contains("input already quantized (tensor '", err);
        Assert.Contains("is q4_0)", err);
        Assert.DoesNotContain('\n', err);
        Assert.Empty(Others(dir, "q4.gguf"));
    }

    [Fact]
    public void Quantize_ImatrixOfAnotherShape_OneLineErrorNamingTheTensor()
    {
        using var dir = new TempDir();
        string input = F32(dir), im = dir.File("other.imatrix.gguf");
        ImportanceMatrix.WriteGguf(im, new Dictionary<string, (float[], float[])> { ["blk.0.attn_q.weight"] = (new float[128], [1f]) }, ["x"], 1, 512);
        var r = FurnaceProcess.Run("quantize", "--in", input, "--out", dir.File("x.gguf"), "--type", "Q4_K_M", "--imatrix", im);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal("furnace: error: imatrix entry 'blk.0.attn_q.weight' holds 128 values, tensor [256, 256] needs 256: computed for another model?", r.Stderr.Trim());
        Assert.Empty(Others(dir, "tiny-f32.gguf", "other.imatrix.gguf"));
    }

    [Fact]
    public void Quantize_HuggingFaceDirectory_ConvertsThenQuantizesLeavingNoTempFile()
    {
        using var dir = new TempDir();
        string hf = dir.File("hf");
        RandomLlama.WriteHuggingFace(hf, Tiny, DType.F32, seed: 6);
        HfTokenizerJson.WriteSynthetic(hf, Tiny.VocabSize);
        string output = dir.File("hf-q5_k_s.gguf");
        var r = FurnaceProcess.Run("quantize", "--in", hf, "--out", output, "--type", "Q5_K_S");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using (var f = GgufFile.Open(output)) Assert.Equal(DType.Q5_K, f.FindTensor("blk.0.ffn_gate.weight")!.Type);
        Assert.Empty(Others(dir, "hf", "hf-q5_k_s.gguf"));
    }

    [Fact]
    public void Quantize_LlavaDirectory_DecoderOnlyAndSaysWhereTheVisionSideIs()
    {
        using var dir = new TempDir();
        string llava = dir.File("llava");
        TinyLlava.Write(llava, seed: 5);
        string output = dir.File("llava-q8_0.gguf");
        var r = FurnaceProcess.Run("quantize", "--in", llava, "--out", output, "--type", "Q8_0");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("the vision tower and projector stay in", r.Stdout);
        using var f = GgufFile.Open(output);
        Assert.DoesNotContain(f.Tensors, t => t.Name.Contains("vision", StringComparison.Ordinal) || t.Name.StartsWith("mm.", StringComparison.Ordinal));
        Assert.Empty(Others(dir, "llava", "llava-q8_0.gguf"));
    }

    [Fact]
    public void Imatrix_ThenQuantizeWithIt_EveryLayerMatrixWeighted()
    {
        using var dir = new TempDir();
        string input = F32(dir), text = dir.File("calib.txt"), im = dir.File("tiny.imatrix.gguf"), output = dir.File("tiny-iq4_xs.gguf");
        string[] words = ["the", "a", "cat", "dog", "sat", "on", "mat", "red", "blue", "ran", "to", "park"];
        var rng = new Random(2);
        File.WriteAllText(text, string.Join(' ', Enumerable.Range(0, 300).Select(_ => words[rng.Next(words.Length)])));
        var r = FurnaceProcess.Run("imatrix", "--model", input, "--file", text, "--out", im, "--ctx", "64", "--chunks", "3", "--threads", "2");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal($"wrote {im} (14 tensors, 3 chunks of 64 tokens)", r.Stdout.Trim());
        var loaded = ImportanceMatrix.Load(im);
        Assert.Equal(3, loaded.ChunkCount);
        Assert.Equal(512, loaded.Values["blk.1.ffn_down.weight"].Length);

        var q = FurnaceProcess.Run("quantize", "--in", input, "--out", output, "--type", "IQ4_XS", "--imatrix", im);
        Assert.True(q.ExitCode == 0, q.Stderr);
        Assert.Contains("imatrix: 14 tensors weighted", q.Stderr);
        using var f = GgufFile.Open(output);
        Assert.Equal(14L, f.GetInt("quantize.imatrix.entries_count"));
        Assert.Equal(3L, f.GetInt("quantize.imatrix.chunks_count"));
    }
}
