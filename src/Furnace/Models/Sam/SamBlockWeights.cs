// One ViTDet block of SAM's image encoder (sam.py Block / Attention / MLPBlock), under its checkpoint names
// blocks.{i}.{norm1, attn.qkv, attn.proj, attn.rel_pos_h, attn.rel_pos_w, norm2, mlp.lin1, mlp.lin2}. The stored
// relative-position embeddings (2·size − 1, head_dim) are turned at load time into get_rel_pos's tables
// Rh (side, side, head_dim) and Rw for the side this block attends over (its window, or the whole grid).
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.Sam;

public sealed class SamBlockWeights
{
    public required float[] Norm1Weight { get; init; }
    public required float[] Norm1Bias { get; init; }
    public required WeightMatrix Qkv { get; init; }     // (3·width, width): rows [q | k | v], heads inside each
    public required float[] QkvBias { get; init; }      // (3·width,); also the qkv row of a zero-padded token
    public required WeightMatrix Proj { get; init; }    // (width, width)
    public required float[] ProjBias { get; init; }
    public required float[] RelH { get; init; }         // (side, side, head_dim) = get_rel_pos(side, side, rel_pos_h)
    public required float[] RelW { get; init; }
    public required float[] Norm2Weight { get; init; }
    public required float[] Norm2Bias { get; init; }
    public required WeightMatrix Lin1 { get; init; }    // (mlp, width)
    public required float[] Lin1Bias { get; init; }
    public required WeightMatrix Lin2 { get; init; }    // (width, mlp)
    public required float[] Lin2Bias { get; init; }

    /// <summary>Window side of this block: 0 for global attention over the grid.</summary>
    public required int Window { get; init; }

    /// <summary>vb points at blocks.{i}.</summary>
    public static SamBlockWeights Load(WeightLoader vb, SamVitConfig c, int index)
    {
        int w = c.Width, hd = c.HeadDim, window = c.WindowOf(index), side = window > 0 ? window : c.Grid;
        var attn = vb.Prefix("attn");
        return new SamBlockWeights
        {
            Norm1Weight = vb.Vector("norm1.weight", w),
            Norm1Bias = vb.Vector("norm1.bias", w),
            Qkv = attn.Matrix("qkv.weight", 3 * w, w),
            QkvBias = attn.Vector("qkv.bias", 3 * w),
            Proj = attn.Matrix("proj.weight", w, w),
            ProjBias = attn.Vector("proj.bias", w),
            RelH = SamRelPos.Table(RelPos(attn, "rel_pos_h", hd), hd, side),
            RelW = SamRelPos.Table(RelPos(attn, "rel_pos_w", hd), hd, side),
            Norm2Weight = vb.Vector("norm2.weight", w),
            Norm2Bias = vb.Vector("norm2.bias", w),
            Lin1 = vb.Matrix("mlp.lin1.weight", c.MlpDim, w),
            Lin1Bias = vb.Vector("mlp.lin1.bias", c.MlpDim),
            Lin2 = vb.Matrix("mlp.lin2.weight", w, c.MlpDim),
            Lin2Bias = vb.Vector("mlp.lin2.bias", w),
            Window = window,
        };
    }

    // (L, head_dim) with any L >= 1: get_rel_pos interpolates a length other than 2·side − 1
    private static float[] RelPos(WeightLoader attn, string name, int hd)
    {
        long[] shape = attn.ShapeOf(name) ?? throw new FurnaceFormatException(attn.SourcePath, $"missing tensor '{attn.Key(name)}'");
        if (shape.Length != 2 || shape[0] < 1 || shape[1] != hd || shape[0] > 1 << 16)
            throw new FurnaceFormatException(attn.SourcePath, $"tensor '{attn.Key(name)}' has shape [{string.Join(", ", shape)}], expected [L, {hd}] (head_dim {hd})");
        return attn.Floats(name, shape);
    }
}
