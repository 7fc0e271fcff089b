// get_rel_pos of SAM's attention (sam.py; MViTv2 decomposed relative positions) for equal query and key sizes:
// the stored table (L, head_dim) is first resized to 2·side − 1 rows with F.interpolate(mode="linear",
// align_corners=False) when L differs (a checkpoint trained at another size), then
//   R[q][k] = resized[q − k + side − 1]        (side, side, head_dim)
// With q_size == k_size the reference's coordinate scaling factors are 1, so the indices are exact integers.
using Furnace.Tensors;

namespace Furnace.Models.Sam;

public static class SamRelPos
{
    /// <summary>R (side, side, headDim) from a stored table relPos (L, headDim).</summary>
    public static float[] Table(float[] relPos, int headDim, int side)
    {
        int length = relPos.Length / headDim, dist = 2 * side - 1;
        float[] resized = length == dist ? relPos : Bilinear.Linear1D(relPos, length, headDim, dist);
        var r = new float[side * side * headDim];
        for (int q = 0; q < side; q++)
        for (int k = 0; k < side; k++)
            resized.AsSpan((q - k + side - 1) * headDim, headDim).CopyTo(r.AsSpan((q * side + k) * headDim, headDim));
        return r;
    }
}
