// What an ONNX image encoder's output means, and so how it becomes features per image.
namespace Furnace.Models.Onnx;

public enum OnnxOutputKind
{
    /// <summary>One vector per image: output (N, D) or (N, D, 1, 1) gives D features.</summary>
    Pooled,

    /// <summary>A feature map (N, C, H, W) read as H·W tokens of C features, row-major over (H, W): (N, H·W, C).</summary>
    Grid,
}
