using Furnace.Models.Clip;
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Cli.Tests;

public sealed class InfoTests
{
    [Fact]
    public void Info_GgufFile_PrintsArchitectureAndTensorTable()
    {
        using var dir = new TempDir();
        RandomLlama.WriteGguf(dir.File("m.gguf"), LlamaConfig.Preset("test-tiny"), DType.Q4_0, 1);
        var r = FurnaceProcess.Run("info", dir.File("m.gguf"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("general.architecture", r.Stdout);
        Assert.Matches(@"blk\.0\.attn_q\.weight\s+q4_0\s+\[64, 64\]", r.Stdout);
    }

    [Fact]
    public void Info_HuggingFaceDirectory_PrintsConfigAndShards()
    {
        using var dir = new TempDir();
        RandomLlama.WriteHuggingFace(dir.File("hf"), LlamaConfig.Preset("test-tiny"), DType.BF16, 1, shards: 2);
        var r = FurnaceProcess.Run("info", dir.File("hf"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("model:     llama, dim 64, 2 layers, 4 heads (2 kv, head dim 16)", r.Stdout);
        Assert.Contains("shards:    2", r.Stdout);
        Assert.Matches(@"model\.layers\.1\.mlp\.down_proj\.weight\s+BF16\s+\[64, 96\]", r.Stdout);
    }

    [Fact]
    public void Info_TruncatedSafetensors_OneLineError()
    {
        using var dir = new TempDir();
        RandomLlama.WriteHuggingFace(dir.File("hf"), LlamaConfig.Preset("test-tiny"), DType.F32, 1);
        byte[] bytes = File.ReadAllBytes(dir.File("hf/model.safetensors"));
        File.WriteAllBytes(dir.File("cut.safetensors"), bytes[..(bytes.Length / 2)]);
        var r = FurnaceProcess.Run("info", dir.File("cut.safetensors"));
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"furnace: error: {dir.File("cut.safetensors")}:", r.Stderr);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Info_ClipDirectory_PrintsBothTowers()
    {
        using var dir = new TempDir();
        RandomClip.WriteHuggingFace(dir.File("clip"), ClipConfig.Preset("test-tiny"), seed: 1);
        var r = FurnaceProcess.Run("info", dir.File("clip"), "--all");
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("vision:    CLIP ViT, 32px, patch 8, 64-d", r.Stdout);
        Assert.Contains("text:      ", r.Stdout);
        Assert.Contains("vision_model.embeddings.patch_embedding.weight", r.Stdout);
    }

    [Fact]
    public void Info_LlavaDirectory_PrintsVisionProjectorAndDecoder()
    {
        using var dir = new TempDir();
        var (vision, config) = RandomLlava.TestTiny();
        RandomLlava.WriteHuggingFace(dir.File("llava"), vision, config, seed: 1);
        var r = FurnaceProcess.Run("info", dir.File("llava"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Contains("projector: Mlp2xGelu, feature layer -2", r.Stdout);
        Assert.Contains("model:     llama, dim 64", r.Stdout);
    }
}
