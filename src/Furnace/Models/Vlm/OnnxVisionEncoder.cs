// Any ONNX image encoder as a VLM's vision side: images are resized (bicubic, as PIL) to the graph's input size and
// handed over as 0-255 RGB planes (the encoder applies its own normalization); its output (a pooled vector or a
// grid) gives the feature rows.
using Furnace.Formats.Images;
using Furnace.Models.Onnx;
using Furnace.Tensors;

namespace Furnace.Models.Vlm;

public sealed class OnnxVisionEncoder : IVisionEncoder
{
    private readonly ImagePreprocessor _resize;

    public OnnxVisionEncoder(OnnxImageEncoder encoder)
    {
        Encoder = encoder;
        _resize = new ImagePreprocessor(new ImagePreprocessorConfig
        {
            ShortestEdge = null,
            ResizeHeight = encoder.Height,
            ResizeWidth = encoder.Width,
            DoCenterCrop = false,
            RescaleFactor = null,
            Mean = null,
            Std = null,
        });
    }

    public OnnxImageEncoder Encoder { get; }

    public int TokensPerImage => Encoder.TokenCount;

    public int FeatureDim => Encoder.FeatureDim;

    public float[] Encode(IReadOnlyList<RgbImage> images, KernelContext ctx)
    {
        if (images.Count == 0) throw new FurnaceException("no images to encode");
        int per = Encoder.PixelsPerImage;
        var pixels = new float[images.Count * per];
        for (int i = 0; i < images.Count; i++) _resize.Preprocess(images[i]).Data.CopyTo(pixels.AsSpan(i * per, per));
        float[][] features = Encoder.Encode(pixels);
        int rows = TokensPerImage * FeatureDim;
        var result = new float[images.Count * rows];
        for (int i = 0; i < images.Count; i++) features[i].CopyTo(result.AsSpan(i * rows, rows));
        return result;
    }

    public void Dispose() => Encoder.Dispose();
}
