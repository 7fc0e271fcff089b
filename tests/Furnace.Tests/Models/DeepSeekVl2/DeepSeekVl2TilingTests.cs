// select_best_resolution, the tile grid and the <image> token count against Oracles/deepseek_vl2_reference.py
// (DeepSeek-VL2's processing code transcribed) over many image sizes: equal, not close.
using System.Text.Json;
using System.Text.Json.Nodes;
using Furnace.Models.DeepSeekVl2;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeekVl2;

public sealed class DeepSeekVl2TilingTests
{
    [Fact]
    public void SelectBestResolution_ManySizes_MatchesReference()
    {
        var p = DeepSeekVl2Fixture.PublishedProcessor();
        var rng = new Random(17);
        var sizes = new List<(int W, int H)> { (1, 1), (384, 384), (383, 385), (640, 480), (480, 640), (1, 5000), (5000, 3), (4000, 4000), (1152, 768), (769, 384), (2000, 100) };
        for (int i = 0; i < 300; i++)
        {
            int w = rng.Next(1, 4) switch { 1 => rng.Next(1, 400), 2 => rng.Next(200, 1600), _ => rng.Next(1, 6000) };
            int h = rng.Next(1, 4) switch { 1 => rng.Next(1, 400), 2 => rng.Next(200, 1600), _ => rng.Next(1, 6000) };
            sizes.Add((w, h));
        }
        using var dir = new TempDir();
        var req = new JsonObject
        {
            ["op"] = "tiling",
            ["sizes"] = new JsonArray(sizes.Select(s => (JsonNode)new JsonArray(s.W, s.H)).ToArray()),
            ["candidates"] = DeepSeekVl2Fixture.ProcessorJson(p)["candidate_resolutions"]!.DeepClone(),
            ["image_size"] = p.ImageSize, ["patch_size"] = p.PatchSize, ["downsample_ratio"] = p.DownsampleRatio,
        };
        File.WriteAllText(dir.File("req.json"), req.ToJsonString());
        PyTorchOracle.Run("deepseek_vl2_reference.py", dir.File("req.json"), dir.File("res.json"));
        using var res = JsonDocument.Parse(File.ReadAllBytes(dir.File("res.json")));
        var results = res.RootElement.GetProperty("results").EnumerateArray().ToArray();
        Assert.Equal(sizes.Count, results.Length);
        var seenGrids = new HashSet<(int, int)>();
        for (int i = 0; i < sizes.Count; i++)
        {
            var (w, h) = sizes[i];
            var best = DeepSeekVl2Tiling.SelectBestResolution(w, h, p.CandidateResolutions);
            int[] expected = results[i].GetProperty("best").EnumerateArray().Select(x => x.GetInt32()).ToArray();
            Assert.True(expected[0] == best.Width && expected[1] == best.Height, $"{w}x{h}: ours {best}, reference [{expected[0]}, {expected[1]}]");
            var grid = DeepSeekVl2Tiling.Grid(w, h, p, cropping: true);
            seenGrids.Add((grid.TilesWide, grid.TilesHigh));
            Assert.Equal(results[i].GetProperty("tokens").GetInt32(), DeepSeekVl2Tiling.ImageTokenCount(p, grid));
            Assert.Equal(results[i].GetProperty("tokens_single").GetInt32(), DeepSeekVl2Tiling.ImageTokenCount(p, DeepSeekVl2Tiling.Grid(w, h, p, cropping: false)));
        }
        Assert.True(seenGrids.Count >= 8, $"only {seenGrids.Count} distinct tile grids: the sizes do not exercise the candidates");
    }

    [Fact]
    public void ImageTokenCount_PublishedShapes_FollowsTheFormula()
    {
        var p = DeepSeekVl2Fixture.PublishedProcessor();
        // one 384 tile: 14·15 global + 1 separator + 14·15 local
        Assert.Equal(421, DeepSeekVl2Tiling.ImageTokenCount(p, new DeepSeekVl2TileGrid(384, 384, 1, 1)));
        // 3 wide × 2 high: 210 + 1 + 28·43
        Assert.Equal(1415, DeepSeekVl2Tiling.ImageTokenCount(p, new DeepSeekVl2TileGrid(1152, 768, 3, 2)));
    }

    [Fact]
    public void Grid_ThreeImagesInPrompt_UsesOneTileEach()
    {
        var p = DeepSeekVl2Fixture.PublishedProcessor();
        Assert.False(DeepSeekVl2Tiling.Cropping(3));
        Assert.Equal(new DeepSeekVl2TileGrid(384, 384, 1, 1), DeepSeekVl2Tiling.Grid(1600, 800, p, DeepSeekVl2Tiling.Cropping(3)));
        Assert.Equal(new DeepSeekVl2TileGrid(1536, 768, 4, 2), DeepSeekVl2Tiling.Grid(1600, 800, p, DeepSeekVl2Tiling.Cropping(2)));
    }
}
