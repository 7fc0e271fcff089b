// The downsample_mlp_gelu projector, the 2D tile token layout and the splice into the token embeddings against
// DeepSeek-VL2's prepare_inputs_embeds transcribed in PyTorch (Oracles/deepseek_vl2_reference.py "embeds", float64),
// on a random-weight checkpoint written by RandomDeepSeekVl2 in the published layout and random "vision features"
// standing in for the tower: max |ours − reference| ≤ 1e-5 · max |reference|.
using System.Text.Json;
using System.Text.Json.Nodes;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models;
using Furnace.Models.DeepSeekVl2;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeekVl2;

public sealed class DeepSeekVl2EmbeddingsTests
{
    [Theory]
    [InlineData(GlobalViewPosition.Head, 2)] // tiled: grids from the candidates
    [InlineData(GlobalViewPosition.Tail, 2)]
    [InlineData(GlobalViewPosition.Head, 3)] // three images: one tile each
    public void PrepareInputsEmbeds_RandomFeatures_MatchesPyTorchReferenceWithin1e5Relative(GlobalViewPosition position, int imageCount)
    {
        using var dir = new TempDir();
        var (config, processor) = RandomDeepSeekVl2.TestPreset(position);
        string model = dir.File("vl2");
        RandomDeepSeekVl2.WriteHuggingFace(model, config, processor, seed: 7);
        Assert.Equal(config.Vision, DeepSeekVl2Config.Load(model).Vision);

        (int W, int H)[] sizes = [(60, 25), (30, 70), (40, 40)];
        bool cropping = DeepSeekVl2Tiling.Cropping(imageCount);
        var grids = sizes.Take(imageCount).Select(s => DeepSeekVl2Tiling.Grid(s.W, s.H, processor, cropping)).ToArray();
        if (cropping) Assert.Equal([(3, 1), (1, 3)], grids.Select(g => (g.TilesWide, g.TilesHigh)).Take(2));
        int side = DeepSeekVl2Tiling.TokensPerSide(processor), gridSide = config.Vision.GridSide;
        int views = grids.Sum(g => g.Views), dim = config.Projector.NEmbed;

        // prompt: a few text ids, each image's slots, text between and after
        var rng = new Random(3);
        var ids = new List<int>();
        var mask = new List<bool>();
        void Text(int n)
        {
            for (int i = 0; i < n; i++)
            {
                ids.Add(rng.Next(config.Language.VocabSize));
                mask.Add(false);
            }
        }
        Text(4);
        foreach (var g in grids)
        {
            int n = DeepSeekVl2Tiling.ImageTokenCount(processor, g);
            Assert.Equal(n, DeepSeekVl2ImageLayout.Rows(side, g));
            ids.AddRange(Enumerable.Repeat(100, n));
            mask.AddRange(Enumerable.Repeat(true, n));
            Text(3);
        }

        float[] features = SeededUniform.Values((long)views * gridSide * gridSide * config.Vision.Width, 11, "features", 0f, 1f);
        File.WriteAllBytes(dir.File("features.f32"), System.Runtime.InteropServices.MemoryMarshal.AsBytes(features.AsSpan()).ToArray());
        var req = new JsonObject
        {
            ["op"] = "embeds", ["model"] = model, ["features"] = dir.File("features.f32"),
            ["features_shape"] = new JsonArray(views, gridSide * gridSide, config.Vision.Width),
            ["input_ids"] = new JsonArray(ids.Select(i => (JsonNode)i).ToArray()),
            ["images_seq_mask"] = new JsonArray(mask.Select(m => (JsonNode)m).ToArray()),
            ["images_spatial_crop"] = new JsonArray(grids.Select(g => (JsonNode)new JsonArray(g.TilesWide, g.TilesHigh)).ToArray()),
            ["out"] = dir.File("embeds.f32"),
        };
        File.WriteAllText(dir.File("req.json"), req.ToJsonString());
        PyTorchOracle.Run("deepseek_vl2_reference.py", dir.File("req.json"), dir.File("res.json"));
        float[] expected = PilOracle.ReadFloats(dir.File("embeds.f32"));

        using ITensorSource src = SafeTensorsCheckpoint.Open(Path.Combine(model, "model.safetensors"));
        var vb = new WeightLoader(src);
        var projector = DeepSeekVl2Projector.Load(vb.Prefix("projector"), config.Projector);
        var layout = DeepSeekVl2ImageLayout.Load(vb, dim, position);
        float[] table = vb.Floats("language.model.embed_tokens.weight", config.Language.VocabSize, dim);
        Assert.Equal(side * side, projector.TokensPerView(gridSide));

        using var ctx = new KernelContext(2);
        var projected = new float[views * side * side * dim];
        projector.Forward(projected, features, views, gridSide, ctx);
        float[] rows = layout.AssembleAll(projected, side, grids);
        var embeds = new float[ids.Count * dim];
        for (int t = 0; t < ids.Count; t++) table.AsSpan(ids[t] * dim, dim).CopyTo(embeds.AsSpan(t * dim, dim));
        DeepSeekVl2ImageLayout.Splice(embeds, mask.ToArray(), rows, dim);

        Assert.Equal(expected.Length, embeds.Length);
        double maxDiff = 0, scale = expected.Max(x => Math.Abs(x));
        for (int i = 0; i < expected.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(expected[i] - embeds[i]));
        Assert.True(maxDiff <= 1e-5 * scale, $"max |diff| {maxDiff:E3} against max |ref| {scale:E3}");
    }

    [Fact]
    public void Splice_RowCountDiffersFromSlots_FailsNamingBoth()
    {
        var e = Assert.Throws<FurnaceException>(() => DeepSeekVl2ImageLayout.Splice(new float[4 * 2], [false, true, true, false], new float[3 * 2], 2));
        Assert.Contains("2 image token positions but the images fill 3 rows", e.Message);
    }

    [Fact]
    public void Assemble_HeadLayout_PutsNewlinesAndSeparatorWhereTheFormulaSays()
    {
        // D = 1, side 2, grid 2 wide × 1 high: view v token k holds 10·v + k; newline −1, separator −2
        var layout = new DeepSeekVl2ImageLayout([-1f], [-2f], GlobalViewPosition.Head);
        var grid = new DeepSeekVl2TileGrid(2, 1, 2, 1);
        float[] projected = Enumerable.Range(0, 3).SelectMany(v => Enumerable.Range(0, 4).Select(k => 10f * v + k)).ToArray();
        var dst = new float[DeepSeekVl2ImageLayout.Rows(2, grid)];
        layout.Assemble(dst, projected, 2, grid);
        Assert.Equal([0, 1, -1, 2, 3, -1, -2, 10, 11, 20, 21, -1, 12, 13, 22, 23, -1], dst);
    }
}
