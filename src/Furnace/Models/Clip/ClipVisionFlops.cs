// Multiply-add FLOPs (2 per multiply-add) of a CLIP/ViT image encode, counted from the tower's config: the matrix
// products only (patch embedding, q/k/v/o, the two MLP linears, QKᵀ and the attention-weighted sum of V); norms,
// softmax, activations and residual adds are left out (each is O(tokens · d), under 1 % at these widths). What
// `furnace bench vision` and bench/Furnace.Bench.Vision divide by the encode time to report GFLOP/s.
namespace Furnace.Models.Clip;

public static class ClipVisionFlops
{
    /// <summary>
    /// One image through the patch embedding and the first <paramref name="layers"/> encoder layers over all
    /// 1 + patches positions.
    /// </summary>
    public static double Tower(ClipVisionConfig c, int layers)
    {
        if (layers < 0 || layers > c.Layers) throw new ArgumentOutOfRangeException(nameof(layers), $"{layers} is outside [0, {c.Layers}]");
        double d = c.HiddenSize, t = c.Positions, ff = c.IntermediateSize;
        double patch = 2.0 * c.Patches * c.PatchValues * d;
        double perLayer = 2.0 * t * (4 * d * d + 2 * d * ff) // q, k, v, o and fc1, fc2
            + 4.0 * t * t * d;                               // QKᵀ and softmax(QKᵀ)·V over every head
        return patch + layers * perLayer;
    }

    /// <summary>A linear of <paramref name="inputs"/> × <paramref name="outputs"/> applied to <paramref name="rows"/> rows (a projection or projector layer).</summary>
    public static double Linear(long rows, long inputs, long outputs) => 2.0 * rows * inputs * outputs;
}
