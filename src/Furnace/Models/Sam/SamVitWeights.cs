// The read-only weights of DeepSeek-VL's SAM tower under sam.py's module names, relative to the tower root
// (vision_model.vision_tower_high.vision_tower in a DeepSeek-VL 7B checkpoint: HybridVisionTower →
// CLIPVisionTower.vision_tower → ImageEncoderViT; transformers' DeepseekVLHybrid names through SamCheckpointNames):
//   patch_embed.proj.{weight, bias}, pos_embed (1, grid, grid, width), blocks.{i}.*, neck.{0..3}.*,
//   downsamples.{j}.weight (3×3, stride 2, no bias), neck_hd.{0..3}.*, hd_alpha_downsamples (1,).
// Every shape is checked against the config; a mismatch names the tensor, its shape and the expected one.
// pos_embed is added as stored (sam.py does not interpolate it), so its grid must equal image_size / patch_size.
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.Sam;

public sealed class SamVitWeights
{
    public required WeightMatrix PatchEmbed { get; init; }   // Conv2d (width, 3, p, p) as (width, 3·p·p)
    public required float[] PatchEmbedBias { get; init; }    // (width,)
    public required float[] PosEmbed { get; init; }          // (grid·grid, width), row-major over (y, x)
    public required SamBlockWeights[] Blocks { get; init; }
    public required SamNeckWeights Neck { get; init; }
    public required WeightMatrix[] Downsamples { get; init; } // (c_j, c_{j-1}·3·3), c_{-1} = out_chans
    public required SamNeckWeights NeckHd { get; init; }
    public required float HdAlpha { get; init; }

    /// <summary>root is the checkpoint root; naming is detected (SamCheckpointNames.Detect) when not given.</summary>
    public static SamVitWeights Load(WeightLoader root, SamVitConfig c, SamCheckpointNaming? naming = null)
    {
        SamCheckpointNaming n = naming ?? SamCheckpointNames.Detect(root);
        string K(string name) => SamCheckpointNames.Tower(n, name);
        int w = c.Width, p = c.PatchSize, g = c.Grid;
        if (root.Contains(K($"blocks.{c.Layers}.norm1.weight")))
            throw new FurnaceFormatException(root.SourcePath, $"tensor '{K($"blocks.{c.Layers}.norm1.weight")}' exists, but the config has {c.Layers} layers");
        if (root.Contains(K($"downsamples.{c.DownsampleChannels.Length}.weight")))
            throw new FurnaceFormatException(root.SourcePath, $"tensor '{K($"downsamples.{c.DownsampleChannels.Length}.weight")}' exists, but the config has {c.DownsampleChannels.Length} downsample_channels");
        var downs = new WeightMatrix[c.DownsampleChannels.Length];
        int cin = c.OutChans;
        for (int j = 0; j < downs.Length; j++)
        {
            downs[j] = root.FlattenedMatrix(K($"downsamples.{j}.weight"), c.DownsampleChannels[j], cin, 3, 3);
            cin = c.DownsampleChannels[j];
        }
        return new SamVitWeights
        {
            PatchEmbed = root.FlattenedMatrix(K("patch_embed.proj.weight"), w, 3, p, p),
            PatchEmbedBias = root.Vector(K("patch_embed.proj.bias"), w),
            PosEmbed = root.Floats(K("pos_embed"), 1, g, g, w),
            Blocks = Enumerable.Range(0, c.Layers).Select(i => SamBlockWeights.Load(root, n, c, i)).ToArray(),
            Neck = SamNeckWeights.Load(root, n, "neck", c),
            Downsamples = downs,
            NeckHd = SamNeckWeights.Load(root, n, "neck_hd", c),
            HdAlpha = root.Floats(K("hd_alpha_downsamples"), 1)[0],
        };
    }
}
