// Seeded random weights for DeepSeek-VL's SAM tower, named and shaped exactly as a DeepSeek-VL
// 7B checkpoint stores them (sam.py module names), for tests and for composing whole random hybrid
// checkpoints. Values are SeededUniform's (a pure function of seed and tensor name), scaled so activations stay
// near unit size. relPosGlobal / relPosWindow override the stored relative-position lengths (2·side − 1 by
// default), as in a checkpoint trained at another size, which get_rel_pos then interpolates.
namespace Furnace.Models.Sam;

public static class RandomSam
{
    /// <summary>The tower's tensors, named as in sam.py relative to the tower (map them with SamCheckpointNames.Tower).</summary>
    public static IEnumerable<(string Name, long[] Shape, float[] Values)> Tower(SamVitConfig c, int seed, int? relPosGlobal = null, int? relPosWindow = null)
    {
        int w = c.Width, p = c.PatchSize, g = c.Grid, hd = c.HeadDim, mlp = c.MlpDim, o = c.OutChans;
        (string, long[], float[]) T(string name, long[] shape, float center, float amplitude) =>
            (name, shape, SeededUniform.Values(shape.Aggregate(1L, (a, b) => a * b), seed, name, center, amplitude));
        float Fan(long fanIn) => MathF.Sqrt(3f / fanIn);

        yield return T("patch_embed.proj.weight", [w, 3, p, p], 0, Fan(3 * p * p));
        yield return T("patch_embed.proj.bias", [w], 0, 0.1f);
        yield return T("pos_embed", [1, g, g, w], 0, 0.5f);
        for (int i = 0; i < c.Layers; i++)
        {
            string b = $"blocks.{i}.";
            int window = c.WindowOf(i);
            int rel = window > 0 ? relPosWindow ?? 2 * window - 1 : relPosGlobal ?? 2 * g - 1;
            yield return T(b + "norm1.weight", [w], 1, 0.1f);
            yield return T(b + "norm1.bias", [w], 0, 0.1f);
            yield return T(b + "attn.qkv.weight", [3 * w, w], 0, Fan(w));
            yield return T(b + "attn.qkv.bias", [3 * w], 0, 0.2f);
            yield return T(b + "attn.proj.weight", [w, w], 0, Fan(w));
            yield return T(b + "attn.proj.bias", [w], 0, 0.1f);
            yield return T(b + "attn.rel_pos_h", [rel, hd], 0, 0.5f);
            yield return T(b + "attn.rel_pos_w", [rel, hd], 0, 0.5f);
            yield return T(b + "norm2.weight", [w], 1, 0.1f);
            yield return T(b + "norm2.bias", [w], 0, 0.1f);
            yield return T(b + "mlp.lin1.weight", [mlp, w], 0, Fan(w));
            yield return T(b + "mlp.lin1.bias", [mlp], 0, 0.1f);
            yield return T(b + "mlp.lin2.weight", [w, mlp], 0, Fan(mlp));
            yield return T(b + "mlp.lin2.bias", [w], 0, 0.1f);
        }
        foreach (string neck in new[] { "neck", "neck_hd" })
        {
            yield return T(neck + ".0.weight", [o, w, 1, 1], 0, Fan(w));
            yield return T(neck + ".1.weight", [o], 1, 0.1f);
            yield return T(neck + ".1.bias", [o], 0, 0.1f);
            yield return T(neck + ".2.weight", [o, o, 3, 3], 0, Fan(9 * o));
            yield return T(neck + ".3.weight", [o], 1, 0.1f);
            yield return T(neck + ".3.bias", [o], 0, 0.1f);
        }
        int cin = o;
        for (int j = 0; j < c.DownsampleChannels.Length; j++)
        {
            yield return T($"downsamples.{j}.weight", [c.DownsampleChannels[j], cin, 3, 3], 0, Fan(9 * cin));
            cin = c.DownsampleChannels[j];
        }
        yield return T("hd_alpha_downsamples", [1], 0.6f, 0.2f);
    }
}
