// One ViTDet block of SAM's image encoder (sam.py Block / Attention / MLPBlock), under sam.py's names
// blocks.{i}.{norm1, attn.qkv, attn.proj, attn.rel_pos_h, attn.rel_pos_w, norm2, mlp.lin1, mlp.lin2} (mapped by
// SamCheckpointNames). The stored
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

    /// <summary>root is the checkpoint root; the block's tensors are sam.py's blocks.{index}.*.</summary>
    public static SamBlockWeights Load(WeightLoader root, SamCheckpointNaming naming, SamVitConfig c, int index)
    {
        int w = c.Width, hd = c.HeadDim, window = c.WindowOf(index), side = window > 0 ? window : c.Grid;
        string K(string name) => SamCheckpointNames.Tower(naming, $"blocks.{index}.{name}");
        return new SamBlockWeights
        {
            Norm1Weight = root.Vector(K("norm1.weight"), w),
            Norm1Bias = root.Vector(K("norm1.bias"), w),
            Qkv = root.Matrix(K("attn.qkv.weight"), 3 * w, w),
            QkvBias = root.Vector(K("attn.qkv.bias"), 3 * w),
            Proj = root.Matrix(K("attn.proj.weight"), w, w),
            ProjBias = root.Vector(K("attn.proj.bias"), w),
            RelH = SamRelPos.Table(RelPos(root, K("attn.rel_pos_h"), hd), hd, side),
            RelW = SamRelPos.Table(RelPos(root, K("attn.rel_pos_w"), hd), hd, side),
            Norm2Weight = root.Vector(K("norm2.weight"), w),
            Norm2Bias = root.Vector(K("norm2.bias"), w),
            Lin1 = root.Matrix(K("mlp.lin1.weight"), c.MlpDim, w),
            Lin1Bias = root.Vector(K("mlp.lin1.bias"), c.MlpDim),
            Lin2 = root.Matrix(K("mlp.lin2.weight"), w, c.MlpDim),
            Lin2Bias = root.Vector(K("mlp.lin2.bias"), w),
            Window = window,
        };
    }

    // (L, head_dim) with any L >= 1: get_rel_pos interpolates a length other than 2·side − 1
    private static float[] RelPos(WeightLoader root, string key, int hd)
    {
        long[] shape = root.ShapeOf(key) ?? throw new FurnaceFormatException(root.SourcePath, $"missing tensor '{root.Key(key)}'");
        if (shape.Length != 2 || shape[0] < 1 || shape[1] != hd || shape[0] > 1 << 16)
            throw new FurnaceFormatException(root.SourcePath, $"tensor '{root.Key(key)}' has shape [{string.Join(", ", shape)}], expected [L, {hd}] (head_dim {hd})");
        return root.Floats(key, shape);
    }
}
