// The memory layout of a graph's image input. Encode always takes RGB planes (C, H, W) per image;
// for NHWC graphs the encoder interleaves them after normalization.
namespace Furnace.Models.Onnx;

public enum OnnxInputLayout
{
    Nchw,
    Nhwc,
}
