// SAM's neck (sam.py ImageEncoderViT.neck, and its deep copy neck_hd): Conv2d(width → out, 1×1, no bias),
// LayerNorm2d, Conv2d(out → out, 3×3, padding 1, no bias), LayerNorm2d — under neck.{0, 1, 2, 3} / neck_hd.{0..3}.
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.Sam;

public sealed class SamNeckWeights
{
    public required WeightMatrix Conv1 { get; init; }  // (out, width·1·1)
    public required float[] Norm1Weight { get; init; }
    public required float[] Norm1Bias { get; init; }
    public required WeightMatrix Conv2 { get; init; }  // (out, out·3·3)
    public required float[] Norm2Weight { get; init; }
    public required float[] Norm2Bias { get; init; }

    /// <summary>root is the checkpoint root; module is "neck" or "neck_hd".</summary>
    public static SamNeckWeights Load(WeightLoader root, SamCheckpointNaming naming, string module, SamVitConfig c)
    {
        string K(string name) => SamCheckpointNames.Tower(naming, $"{module}.{name}");
        return new SamNeckWeights
        {
            Conv1 = root.FlattenedMatrix(K("0.weight"), c.OutChans, c.Width, 1, 1),
            Norm1Weight = root.Vector(K("1.weight"), c.OutChans),
            Norm1Bias = root.Vector(K("1.bias"), c.OutChans),
            Conv2 = root.FlattenedMatrix(K("2.weight"), c.OutChans, c.OutChans, 3, 3),
            Norm2Weight = root.Vector(K("3.weight"), c.OutChans),
            Norm2Bias = root.Vector(K("3.bias"), c.OutChans),
        };
    }
}
