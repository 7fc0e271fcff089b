// Seeded random weights for DeepSeek-VL's hybrid aligner (projector.py low_high_hybrid_split_mlp_gelu), named and
// shaped as a DeepSeek-VL 7B checkpoint stores them under `aligner.`; values are SeededUniform's.
namespace Furnace.Models.DeepSeekVl;

public static class RandomHybridAligner
{
    /// <summary>The hybrid aligner's tensors, named as in projector.py (map them with SamCheckpointNames.Aligner).</summary>
    public static IEnumerable<(string Name, long[] Shape, float[] Values)> Tensors(HybridAlignerConfig c, int seed)
    {
        int half = c.NEmbed / 2;
        (string, long[], float[]) T(string name, long[] shape, float amplitude) =>
            (name, shape, SeededUniform.Values(shape.Aggregate(1L, (a, b) => a * b), seed, name, 0, amplitude));
        yield return T("high_up_proj.weight", [half, c.InputDim], MathF.Sqrt(3f / c.InputDim));
        yield return T("high_up_proj.bias", [half], 0.1f);
        yield return T("low_up_proj.weight", [half, c.InputDim], MathF.Sqrt(3f / c.InputDim));
        yield return T("low_up_proj.bias", [half], 0.1f);
        for (int k = 1; k < c.Depth; k++)
        {
            yield return T($"layers.{2 * k - 1}.weight", [c.NEmbed, c.NEmbed], MathF.Sqrt(3f / c.NEmbed));
            yield return T($"layers.{2 * k - 1}.bias", [c.NEmbed], 0.1f);
        }
    }
}
