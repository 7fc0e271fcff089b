// `furnace lora info|merge` and --lora on generate and caption, end to end on tiny random checkpoints and adapters
// written in PEFT's format: a merged copy generates exactly what the load-time merge generates, scale 0 is the base,
// and bad adapters fail with one-line errors and leave no output behind.
using System.Text.Json;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Cli.Tests;

public sealed class LoraCliFixture : IDisposable
{
    public LoraCliFixture()
    {
        var tiny = LlamaConfig.Preset("test-tiny");
        Llm = Dir.File("llm");
        RandomLlama.WriteHuggingFace(Llm, tiny, DType.F32, seed: 3);
        HfTokenizerJson.WriteSynthetic(Llm, tiny.VocabSize);
        Adapter = Dir.File("adapter");
        LoraAdapter.Create(new LoraConfig { Rank = 4, Alpha = 128, Targets = LoraTargets.AllLinear, BaseModel = "random/test-tiny" }.Validated("t"), tiny, seed: 2, randomB: true)
            .Save(Adapter);
        Other = Dir.File("other-adapter");
        LoraAdapter.Create(new LoraConfig { Rank = 2, Targets = LoraTargets.Parse("up_proj") }.Validated("t"), tiny with { FfnDim = 128 }, seed: 2).Save(Other);

        Llava = Dir.File("llava");
        var (vision, config) = RandomLlava.TestTiny();
        RandomLlava.WriteHuggingFace(Llava, vision, config, seed: 5);
        HfTokenizerJson.WriteSynthetic(Llava, config.Text.VocabSize);
        LlavaAdapter = Dir.File("llava-adapter");
        LoraAdapter.Create(new LoraConfig { Rank = 4, Alpha = 64, Targets = LoraTargets.Parse("q_proj,v_proj") }.Validated("t"), config.Text, seed: 2, LoraModules.LlavaPrefix, randomB: true)
            .Save(LlavaAdapter);
        Image = Dir.File("a.bmp");
        VlmCliFixture.WriteBmp(Image, 40, 30, 1);
    }

    public TempDir Dir { get; } = new();

    public string Llm { get; }

    public string Adapter { get; }

    public string Other { get; }

    public string Llava { get; }

    public string LlavaAdapter { get; }

    public string Image { get; }

    public void Dispose() => Dir.Dispose();
}

public sealed class LoraCliTests : IClassFixture<LoraCliFixture>
{
    private readonly LoraCliFixture _f;

    public LoraCliTests(LoraCliFixture f) => _f = f;

    private static JsonElement Json(ProcessResult r)
    {
        Assert.True(r.ExitCode == 0, r.Stderr);
        return JsonDocument.Parse(r.Stdout).RootElement;
    }

    private string Generate(string model, params string[] extra) =>
        Json(FurnaceProcess.Run(["generate", "-m", model, "-p", "hello world", "--temperature", "0", "-n", "12", "--json", "-t", "1", .. extra]))
            .GetProperty("text").GetString()!;

    [Fact]
    public void Info_Text_ShowsRankScaleAndModules()
    {
        var r = FurnaceProcess.Run("lora", "info", _f.Adapter);
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("rank        4", r.Stdout);
        Assert.Contains("scale       32 (alpha/r)", r.Stdout);
        Assert.Contains("targets     all-linear", r.Stdout);
        Assert.Contains("modules     14 (down_proj, gate_proj, k_proj, o_proj, q_proj, up_proj, v_proj in 2 layers)", r.Stdout);
        Assert.Contains("random/test-tiny", r.Stdout);
    }

    [Fact]
    public void Info_Json_HasFields()
    {
        var j = Json(FurnaceProcess.Run("lora", "info", _f.Adapter, "--json"));
        Assert.Equal(4, j.GetProperty("rank").GetInt32());
        Assert.Equal(32f, j.GetProperty("scale").GetSingle());
        Assert.Equal("all-linear", j.GetProperty("target_kind").GetString());
        Assert.Equal(14, j.GetProperty("modules").GetInt32());
        // per layer: A (4, in) + B (out, 4) for q (64x64), k, v (32x64), o (64x64), gate, up (96x64), down (64x96)
        long perLayer = 4L * (64 + 64) + 4L * (64 + 32) * 2 + 4L * (64 + 64) + 4L * (64 + 96) * 2 + 4L * (96 + 64);
        Assert.Equal(2 * perLayer, j.GetProperty("parameters").GetInt64());
    }

    [Fact]
    public void Merge_ThenGenerate_EqualsGenerateWithLora()
    {
        using var dir = new TempDir();
        string merged = dir.File("merged");
        var m = FurnaceProcess.Run("lora", "merge", "--base", _f.Llm, "--lora", _f.Adapter, "--out", merged, "-t", "1");
        Assert.True(m.ExitCode == 0, m.Stderr);
        Assert.Contains("merged 14 weights", m.Stderr);
        string viaLoad = Generate(_f.Llm, "--lora", _f.Adapter);
        Assert.Equal(viaLoad, Generate(merged));
        Assert.NotEqual(Generate(_f.Llm), viaLoad);
        Assert.Equal(Generate(_f.Llm), Generate(_f.Llm, "--lora", _f.Adapter, "--lora-scale", "0"));
    }

    [Fact]
    public void Merge_ToGguf_Loads()
    {
        using var dir = new TempDir();
        string gguf = dir.File("merged.gguf");
        var m = FurnaceProcess.Run("lora", "merge", "--base", _f.Llm, "--lora", _f.Adapter, "--out", gguf, "--type", "f32");
        Assert.True(m.ExitCode == 0, m.Stderr);
        Assert.Equal(Generate(_f.Llm, "--lora", _f.Adapter), Generate(gguf));
    }

    [Fact]
    public void Logits_WithLora_EqualMergedCopy()
    {
        using var dir = new TempDir();
        string merged = dir.File("merged.gguf");
        Assert.Equal(0, FurnaceProcess.Run("lora", "merge", "--base", _f.Llm, "--lora", _f.Adapter, "--out", merged, "--type", "f32").ExitCode);
        var a = FurnaceProcess.Run("logits", "-m", _f.Llm, "--lora", _f.Adapter, "--tokens", "1,17,42,99", "-t", "1");
        var b = FurnaceProcess.Run("logits", "-m", merged, "--tokens", "1,17,42,99", "-t", "1");
        Assert.True(a.ExitCode == 0, a.Stderr);
        float[] la = JsonDocument.Parse(a.Stdout).RootElement.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        float[] lb = JsonDocument.Parse(b.Stdout).RootElement.GetProperty("logits").EnumerateArray().Select(v => v.GetSingle()).ToArray();
        Assert.True(la.Zip(lb).Max(p => Math.Abs(p.First - p.Second)) < 1e-4f);
    }

    [Fact]
    public void Export_WritesLlamaCppAdapter()
    {
        using var dir = new TempDir();
        string gguf = dir.File("adapter.gguf");
        var r = FurnaceProcess.Run("lora", "export", "--base", _f.Llm, "--lora", _f.Adapter, "--out", gguf, "--lora-scale", "0.5");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var f = Furnace.Formats.Gguf.GgufFile.Open(gguf);
        Assert.Equal("adapter", f.GetString("general.type"));
        Assert.Equal("lora", f.GetString("adapter.type"));
        Assert.Equal("llama", f.Architecture);
        Assert.Equal(0.5 * 32 * 4, f.GetFloat("adapter.lora.alpha"));
        Assert.Equal(28, f.Tensors.Count);
        Assert.Equal([96L, 4], f.FindTensor("blk.1.ffn_down.weight.lora_a")!.Shape); // ggml order: [in, r]
        Assert.Equal([4L, 64], f.FindTensor("blk.1.ffn_down.weight.lora_b")!.Shape);
    }

    [Fact]
    public void Caption_WithLora_ChangesNothingAtScaleZero()
    {
        string Caption(params string[] extra)
        {
            var r = FurnaceProcess.Run(["caption", _f.Image, "--model", _f.Llava, "-n", "6", "-t", "1", .. extra]);
            Assert.True(r.ExitCode == 0, r.Stderr);
            return r.Stdout;
        }

        var withLora = FurnaceProcess.Run("caption", _f.Image, "--model", _f.Llava, "-n", "6", "-t", "1", "--lora", _f.LlavaAdapter);
        Assert.True(withLora.ExitCode == 0, withLora.Stderr);
        Assert.Contains("lora:", withLora.Stderr);
        Assert.Equal(Caption(), Caption("--lora", _f.LlavaAdapter, "--lora-scale", "0"));
    }

    [Fact]
    public void Generate_MismatchedAdapter_FailsWithShapes()
    {
        var r = FurnaceProcess.Run("generate", "-m", _f.Llm, "-p", "hi", "--lora", _f.Other);
        Assert.Equal(1, r.ExitCode);
        Assert.Contains("furnace: error: ", r.Stderr);
        Assert.Contains("up_proj.lora_B.weight' has shape [128, 2]", r.Stderr);
        Assert.Contains("has shape [96, 64]", r.Stderr);
    }

    [Fact]
    public void Errors_AreOneLine_AndLeaveNoOutput()
    {
        using var dir = new TempDir();
        var missing = FurnaceProcess.Run("generate", "-m", _f.Llm, "-p", "hi", "--lora", dir.File("nope"));
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("not found", missing.Stderr);
        var scaleOnly = FurnaceProcess.Run("generate", "-m", _f.Llm, "-p", "hi", "--lora-scale", "2");
        Assert.Equal(1, scaleOnly.ExitCode);
        Assert.Contains("--lora-scale needs --lora", scaleOnly.Stderr);
        var merge = FurnaceProcess.Run("lora", "merge", "--base", _f.Llm, "--lora", _f.Other, "--out", dir.File("out"));
        Assert.Equal(1, merge.ExitCode);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
        var info = FurnaceProcess.Run("lora", "info", _f.Llm);
        Assert.Equal(1, info.ExitCode);
        Assert.Contains("adapter_config.json", info.Stderr);
    }
}
