// Test support: a tiny fixed vision encoder for training tests — a 32x32 image becomes 9 tokens, the 16x16 windows at
// stride 8 (a 3x3 grid), each 2x2-average-pooled to 8x8 RGB values centred at zero (192 features). A shape drawn at
// one of ShapeCaptions' places lies whole inside one window, so the tokens carry colour (the values), shape (the
// pooled silhouette) and position (which token) without any learned weights.
using Furnace.Formats.Images;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Tests.Support;

public sealed class PatchPoolEncoder : IVisionEncoder
{
    public int TokensPerImage => 9;

    public int FeatureDim => 192;

    public float[] Encode(IReadOnlyList<RgbImage> images, KernelContext ctx)
    {
        var f = new float[images.Count * TokensPerImage * FeatureDim];
        for (int n = 0; n < images.Count; n++)
        {
            RgbImage im = images[n];
            if (im.Width != 32 || im.Height != 32) throw new FurnaceException("PatchPoolEncoder takes 32x32 images");
            for (int t = 0; t < 9; t++)
            {
                int py = t / 3 * 8, px = t % 3 * 8;
                for (int cy = 0; cy < 8; cy++)
                {
                    for (int cx = 0; cx < 8; cx++)
                    {
                        for (int ch = 0; ch < 3; ch++)
                        {
                            int sum = 0;
                            for (int dy = 0; dy < 2; dy++)
                                for (int dx = 0; dx < 2; dx++) sum += im.Pixels[((py + cy * 2 + dy) * 32 + px + cx * 2 + dx) * 3 + ch];
                            f[((n * 9 + t) * 64 + cy * 8 + cx) * 3 + ch] = sum / (4 * 255f) - 0.5f;
                        }
                    }
                }
            }
        }
        return f;
    }

    public void Dispose()
    {
    }
}
