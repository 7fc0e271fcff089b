// Applies AugmentationOptions to one preprocessed example, deterministically from a seed (the loader derives it
// from its seed, the epoch and the sample index). It works on the normalised (3, H, W) tensor after the HF
// preprocessing, so cached tensors can be augmented without decoding again: rescale and normalise are affine per
// channel, and bilinear resampling commutes with them. RandomResizedCrop follows torchvision
// (transforms.RandomResizedCrop.get_params: 10 tries of area·U(scale) and exp(U(log ratio)), then a centre crop of
// the clamped ratio) and resizes the crop back to (H, W) bilinearly with half-pixel centres (align_corners=False,
// no antialias). The flip mirrors the image; if the example's text names a side, LeftRightPolicy decides
// whether the words are swapped or the flip is skipped.
using Furnace.Formats.Images;

namespace Furnace.Data;

public sealed class ImageAugmenter
{
    public ImageAugmenter(AugmentationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Options = options.Validated();
    }

    public AugmentationOptions Options { get; }

    /// <summary>The augmented example and pixels; Flipped says whether the image was mirrored (and, if its text
    /// named a side, its words swapped).</summary>
    public (TrainingExample Example, PixelValues Pixels, bool Flipped) Apply(TrainingExample example, PixelValues pixels, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(example);
        ArgumentNullException.ThrowIfNull(pixels);
        if (Options.RandomResizedCrop)
        {
            var rng = DataRandom.For(seed, 0, 0, "crop");
            var (top, left, h, w) = CropBox(pixels.Height, pixels.Width, ref rng);
            pixels = ResizeBilinear(pixels, top, left, h, w, pixels.Height, pixels.Width);
        }
        bool flip = Options.FlipProbability > 0 && DataRandom.For(seed, 0, 0, "flip").NextDouble() < Options.FlipProbability;
        if (!flip) return (example, pixels, false);
        if (example.Turns.Any(t => LeftRightText.Mentions(t.Text)))
        {
            if (Options.LeftRight == LeftRightPolicy.NoFlip) return (example, pixels, false);
            example = example with { Turns = example.Turns.Select(t => t with { Text = LeftRightText.Swap(t.Text) }).ToArray() };
        }
        return (example, FlipHorizontal(pixels), true);
    }

    /// <summary>torchvision's RandomResizedCrop.get_params: (top, left, height, width) of the crop.</summary>
    public (int Top, int Left, int Height, int Width) CropBox(int height, int width, ref DataRandom rng)
    {
        double area = (double)height * width;
        double logLo = Math.Log(Options.MinRatio), logHi = Math.Log(Options.MaxRatio);
        for (int attempt = 0; attempt < 10; attempt++)
        {
            double target = area * rng.NextDouble(Options.MinScale, Options.MaxScale);
            double aspect = Math.Exp(rng.NextDouble(logLo, logHi));
            int w = (int)Math.Round(Math.Sqrt(target * aspect));
            int h = (int)Math.Round(Math.Sqrt(target / aspect));
            if (w > 0 && w <= width && h > 0 && h <= height)
                return (rng.NextInt(height - h + 1), rng.NextInt(width - w + 1), h, w);
        }
        double ratio = (double)width / height;
        int cw = width, ch = height;
        if (ratio < Options.MinRatio) ch = (int)Math.Round(width / Options.MinRatio);
        else if (ratio > Options.MaxRatio) cw = (int)Math.Round(height * Options.MaxRatio);
        return ((height - ch) / 2, (width - cw) / 2, ch, cw);
    }

    /// <summary>Mirrors each row: out[c, y, x] = in[c, y, W − 1 − x].</summary>
    public static PixelValues FlipHorizontal(PixelValues src)
    {
        var dst = new float[src.Data.Length];
        int w = src.Width;
        for (int row = 0; row < src.Channels * src.Height; row++)
        {
            ReadOnlySpan<float> s = src.Data.AsSpan(row * w, w);
            Span<float> d = dst.AsSpan(row * w, w);
            for (int x = 0; x < w; x++) d[x] = s[w - 1 - x];
        }
        return new PixelValues(src.Channels, src.Height, src.Width, dst);
    }

    /// <summary>The box (top, left, h, w) of src resized to outH × outW, bilinear with half-pixel centres and edge
    /// clamping (torch.nn.functional.interpolate, mode="bilinear", align_corners=False, antialias=False).</summary>
    public static PixelValues ResizeBilinear(PixelValues src, int top, int left, int h, int w, int outH, int outW)
    {
        if (h <= 0 || w <= 0 || top < 0 || left < 0 || top + h > src.Height || left + w > src.Width)
            throw new ArgumentOutOfRangeException(nameof(h), $"crop ({top}, {left}, {h}, {w}) is outside {src.Height}x{src.Width}");
        var dst = new float[src.Channels * outH * outW];
        var x0 = new int[outW];
        var x1 = new int[outW];
        var fx = new float[outW];
        for (int x = 0; x < outW; x++) (x0[x], x1[x], fx[x]) = Source(x, w, outW);
        for (int y = 0; y < outH; y++)
        {
            var (y0, y1, fy) = Source(y, h, outH);
            for (int c = 0; c < src.Channels; c++)
            {
                ReadOnlySpan<float> r0 = src.Data.AsSpan((c * src.Height + top + y0) * src.Width + left, w);
                ReadOnlySpan<float> r1 = src.Data.AsSpan((c * src.Height + top + y1) * src.Width + left, w);
                Span<float> d = dst.AsSpan((c * outH + y) * outW, outW);
                for (int x = 0; x < outW; x++)
                {
                    float a = r0[x0[x]] + (r0[x1[x]] - r0[x0[x]]) * fx[x];
                    float b = r1[x0[x]] + (r1[x1[x]] - r1[x0[x]]) * fx[x];
                    d[x] = a + (b - a) * fy;
                }
            }
        }
        return new PixelValues(src.Channels, outH, outW, dst);
    }

    // Output index → the two source indices and the weight of the second (PyTorch's area_pixel_compute_source_index).
    private static (int I0, int I1, float Frac) Source(int o, int inSize, int outSize)
    {
        double scale = (double)inSize / outSize;
        double s = Math.Max((o + 0.5) * scale - 0.5, 0);
        int i0 = Math.Min((int)s, inSize - 1);
        int i1 = Math.Min(i0 + 1, inSize - 1);
        return (i0, i1, (float)(s - i0));
    }
}
