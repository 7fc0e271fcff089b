// The vision side of a VLM as LLaVA's composition sees it (modeling_llava.py get_image_features before the
// projector): decoded images in, a (tokens, dim) feature grid per image out. Each encoder preprocesses images its own
// way (CLIP: the HF image processor; ONNX: resize to the graph's input).
using Furnace.Formats.Images;
using Furnace.Tensors;

namespace Furnace.Models.Vlm;

public interface IVisionEncoder : IDisposable
{
    /// <summary>Feature rows per image.</summary>
    int TokensPerImage { get; }

    /// <summary>Width of a feature row (the projector's input).</summary>
    int FeatureDim { get; }

    /// <summary>Features (images, TokensPerImage, FeatureDim) row-major.</summary>
    float[] Encode(IReadOnlyList<RgbImage> images, KernelContext ctx);
}
