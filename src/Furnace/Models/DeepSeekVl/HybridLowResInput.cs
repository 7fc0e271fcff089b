// The low-resolution view HybridVisionTower hands its SigLIP tower (deepseek_vl/models/clip_encoder.py:
// `low_images = torchvision.transforms.Resize(low_res_size, antialias=True)(images)`): the processor's (3, S, S)
// high-resolution tensor (S = 1024 for DeepSeek-VL 7B) resized to (3, L, L) (L = 384) by torchvision's tensor path,
// F.interpolate(mode="bilinear", align_corners=False, antialias=True): a separable triangle filter widened by the
// downscale factor, weights normalised per output (aten _upsample_bilinear2d_aa; the same taps as Pillow's
// bilinear, kept in floating point: ResampleCoefficients.Normalized). Values are not rounded or clamped (float input).
using Furnace.Formats.Images;

namespace Furnace.Models.DeepSeekVl;

public static class HybridLowResInput
{
    /// <summary>(3, lowSize, lowSize) from pixels (3, size, size).</summary>
    public static float[] Resize(ReadOnlySpan<float> pixels, int size, int lowSize)
    {
        if (size < 1 || lowSize < 1) throw new FurnaceException($"hybrid low-resolution resize {size} -> {lowSize} needs positive sizes");
        if (pixels.Length != 3L * size * size) throw new FurnaceException($"hybrid tower input holds {pixels.Length} values, expected 3 x {size} x {size}");
        double[] w = ResampleCoefficients.Normalized(size, lowSize, ResampleFilter.Bilinear, out int k, out int[] first, out int[] count);
        var rows = new float[3 * size * lowSize]; // (3, size, lowSize): width resized first
        for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < size; y++)
        {
            ReadOnlySpan<float> src = pixels.Slice((ch * size + y) * size, size);
            for (int o = 0; o < lowSize; o++)
            {
                double sum = 0;
                for (int t = 0; t < count[o]; t++) sum += w[o * k + t] * src[first[o] + t];
                rows[(ch * size + y) * lowSize + o] = (float)sum;
            }
        }
        var result = new float[3 * lowSize * lowSize];
        for (int ch = 0; ch < 3; ch++)
        for (int o = 0; o < lowSize; o++)
        for (int x = 0; x < lowSize; x++)
        {
            double sum = 0;
            for (int t = 0; t < count[o]; t++) sum += w[o * k + t] * rows[(ch * size + first[o] + t) * lowSize + x];
            result[(ch * lowSize + o) * lowSize + x] = (float)sum;
        }
        return result;
    }
}
