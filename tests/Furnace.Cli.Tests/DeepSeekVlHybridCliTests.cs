// `furnace caption` and `embed --projected` on a tiny random DeepSeek-VL 7B-style hybrid directory
// (RandomDeepSeekVl.TestTinyHybrid: SAM at 128 px + SigLIP at 96 px, low_high_hybrid_split_mlp_gelu).
using System.Text.Json;
using Furnace.Models.DeepSeekVl;

namespace Furnace.Cli.Tests;

public sealed class DeepSeekVlHybridCliTests
{
    [Fact]
    public void Caption_HybridDirectory_WritesTokensAndProjectedShape()
    {
        using var dir = new TempDir();
        string model = dir.File("deepseek-vl-hybrid"), image = dir.File("a.bmp");
        RandomDeepSeekVl.Write(model, RandomDeepSeekVl.TestTinyHybrid(), seed: 7);
        RandomBmp.Write(image, 40, 30, 1);

        var r = FurnaceProcess.Run("caption", image, "--model", model, "--max-tokens", "4", "--json", "-t", "1");
        Assert.True(r.ExitCode == 0, r.Stderr);
        JsonElement o = JsonDocument.Parse(r.Stdout.Trim()).RootElement;
        int[] ids = o.GetProperty("token_ids").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.InRange(ids.Length, 1, 4);
        Assert.All(ids, id => Assert.InRange(id, 0, 319));

        var e = FurnaceProcess.Run("embed", image, "--model", model, "--projected", "--json", "-t", "1");
        Assert.True(e.ExitCode == 0, e.Stderr);
        int[] shape = JsonDocument.Parse(e.Stdout.Trim()).RootElement.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray();
        Assert.Equal([576, 64], shape);
    }
}
