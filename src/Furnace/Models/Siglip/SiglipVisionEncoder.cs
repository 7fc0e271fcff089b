// A SigLIP tower behind the VLM's vision seam (IVisionEncoder): each image goes through the model's own
// preprocessing (a function to (3, S, S) pixel values: DeepSeek-VL's VLMImageProcessor, or an HF
// SiglipImageProcessor for LLaVA-style checkpoints), then the tower; features (images, Patches, Width).
using Furnace.Formats.Images;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Models.Siglip;

public sealed class SiglipVisionEncoder : IVisionEncoder
{
    private readonly Func<RgbImage, PixelValues> _preprocess;
    private readonly bool _ownsTower;

    public SiglipVisionEncoder(SiglipVisionTower tower, Func<RgbImage, PixelValues> preprocess, bool ownsTower = true)
    {
        Tower = tower;
        _preprocess = preprocess;
        _ownsTower = ownsTower;
    }

    public SiglipVisionTower Tower { get; }

    public int TokensPerImage => Tower.Config.Patches;

    public int FeatureDim => Tower.Config.Width;

    /// <summary>Pixel values (images, 3, S, S) as the preprocessing makes them.</summary>
    public float[] Pixels(IReadOnlyList<RgbImage> images)
    {
        int s = Tower.Config.ImageSize, per = Tower.Config.Channels * s * s;
        var pixels = new float[(long)images.Count * per];
        for (int i = 0; i < images.Count; i++)
        {
            PixelValues px = _preprocess(images[i]);
            if (px.Height != s || px.Width != s || px.Channels != Tower.Config.Channels)
                throw new FurnaceException($"the image processor makes {px.Width}x{px.Height} images but the SigLIP tower takes {s}x{s}");
            px.Data.CopyTo(pixels.AsSpan(i * per, per));
        }
        return pixels;
    }

    public float[] Encode(IReadOnlyList<RgbImage> images, KernelContext ctx)
    {
        if (images.Count == 0) throw new FurnaceException("no images to encode");
        return Tower.Encode(Pixels(images), images.Count, ctx);
    }

    public void Dispose()
    {
        if (_ownsTower) Tower.Dispose();
    }
}
