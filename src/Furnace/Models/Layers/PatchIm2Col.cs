// The im2col of a ViT patch embedding (Conv2d with kernel = stride = patch, no padding; Dosovitskiy et al. 2020 §3.1):
// each non-overlapping p×p patch becomes one row, so the convolution is one GEMM with the kernel viewed as a
// (out, C·p·p) matrix (WeightLoader.FlattenedMatrix). Shared by the CLIP and SigLIP towers.
namespace Furnace.Models.Layers;

public static class PatchIm2Col
{
    // pixels (images, C, S, S) -> patches (images * g * g, C*p*p), g = S / p; row (b, py, px), column (ch, ky, kx)
    // = pixels[b, ch, py*p + ky, px*p + kx], the order of a Conv2d weight (out, C, p, p) flattened.
    public static void Fill(Span<float> patches, ReadOnlySpan<float> pixels, int images, int channels, int imageSize, int patch)
    {
        int g = imageSize / patch, cols = channels * patch * patch;
        if (patches.Length < (long)images * g * g * cols) throw new ArgumentException($"patches hold {patches.Length} floats, need {images * g * g}x{cols}");
        if (pixels.Length < (long)images * channels * imageSize * imageSize) throw new ArgumentException($"pixels hold {pixels.Length} floats, need {images}x{channels}x{imageSize}x{imageSize}");
        for (int b = 0; b < images; b++)
        for (int py = 0; py < g; py++)
        for (int px = 0; px < g; px++)
        {
            Span<float> row = patches.Slice(((b * g + py) * g + px) * cols, cols);
            for (int ch = 0; ch < channels; ch++)
            for (int ky = 0; ky < patch; ky++)
            {
                int src = ((b * channels + ch) * imageSize + py * patch + ky) * imageSize + px * patch;
                pixels.Slice(src, patch).CopyTo(row.Slice((ch * patch + ky) * patch, patch));
            }
        }
    }
}
