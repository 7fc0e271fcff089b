// The read-only weights of DeepSeek-VL's SAM tower under sam.py's module names, relative to the tower root
// (vision_model.vision_tower_high.vision_tower in a DeepSeek-VL 7B checkpoint: HybridVisionTower →
// CLIPVisionTower.vision_tower → ImageEncoderViT):
//   patch_embed.proj.{weight, bias}, pos_embed (1, grid, grid, width), blocks.{i}.*, neck.{0..3}.*,
//   downsamples.{j}.weight (3×3, stride 2, no bias), neck_hd.{0..3}.*, hd_alpha_downsamples (1,).
// Every shape is checked against the config; a mismatch names the tensor, its shape and the expected one.
// pos_embed is added as stored (sam.py does not interpolate it), so its grid must equal image_size / patch_size.
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.Sam;

public sealed class SamVitWeights
{
    /// <summary>The tower root inside a DeepSeek-VL hybrid checkpoint.</summary>
    public const string DeepSeekVlPrefix = "vision_model.vision_tower_high.vision_tower";

    public required WeightMatrix PatchEmbed { get; init; }   // Conv2d (width, 3, p, p) as (width, 3·p·p)
    public required float[] PatchEmbedBias { get; init; }    // (width,)
    public required float[] PosEmbed { get; init; }          // (grid·grid, width), row-major over (y, x)
    public required SamBlockWeights[] Blocks { get; init; }
    public required SamNeckWeights Neck { get; init; }
    public required WeightMatrix[] Downsamples { get; init; } // (c_j, c_{j-1}·3·3), c_{-1} = out_chans
    public required SamNeckWeights NeckHd { get; init; }
    public required float HdAlpha { get; init; }

    /// <summary>vb points at the tower root (e.g. DeepSeekVlPrefix).</summary>
    public static SamVitWeights Load(WeightLoader vb, SamVitConfig c)
    {
        int w = c.Width, p = c.PatchSize, g = c.Grid;
        if (vb.Contains($"blocks.{c.Layers}.norm1.weight"))
            throw new FurnaceFormatException(vb.SourcePath, $"tensor '{vb.Key($"blocks.{c.Layers}.norm1.weight")}' exists, but the config has {c.Layers} layers");
        if (vb.Contains($"downsamples.{c.DownsampleChannels.Length}.weight"))
            throw new FurnaceFormatException(vb.SourcePath, $"tensor '{vb.Key($"downsamples.{c.DownsampleChannels.Length}.weight")}' exists, but the config has {c.DownsampleChannels.Length} downsample_channels");
        var downs = new WeightMatrix[c.DownsampleChannels.Length];
        int cin = c.OutChans;
        for (int j = 0; j < downs.Length; j++)
        {
            downs[j] = vb.FlattenedMatrix($"downsamples.{j}.weight", c.DownsampleChannels[j], cin, 3, 3);
            cin = c.DownsampleChannels[j];
        }
        return new SamVitWeights
        {
            PatchEmbed = vb.FlattenedMatrix("patch_embed.proj.weight", w, 3, p, p),
            PatchEmbedBias = vb.Vector("patch_embed.proj.bias", w),
            PosEmbed = vb.Floats("pos_embed", 1, g, g, w),
            Blocks = Enumerable.Range(0, c.Layers).Select(i => SamBlockWeights.Load(vb.Prefix($"blocks.{i}"), c, i)).ToArray(),
            Neck = SamNeckWeights.Load(vb.Prefix("neck"), c),
            Downsamples = downs,
            NeckHd = SamNeckWeights.Load(vb.Prefix("neck_hd"), c),
            HdAlpha = vb.Floats("hd_alpha_downsamples", 1)[0],
        };
    }
}
