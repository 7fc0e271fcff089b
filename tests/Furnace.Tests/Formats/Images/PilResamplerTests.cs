// PilResampler (transposed, vectorised passes) against a scalar transcription of PIL's per-pixel loops on seeded
// random images of awkward sizes (vector tails, 1-pixel sides, up- and downscales); no Python needed.
using Furnace.Formats.Images;

namespace Furnace.Tests.Formats.Images;

public sealed class PilResamplerTests
{
    // ImagingResampleInner with the 8bpc loops, one output value at a time.
    private static RgbImage Reference(RgbImage src, int w, int h, ResampleFilter f)
    {
        const int half = 1 << (ResampleCoefficients.PrecisionBits - 1);
        static byte Clip(int s) => (byte)Math.Clamp(s >> ResampleCoefficients.PrecisionBits, 0, 255);
        var img = src;
        var vert = ResampleCoefficients.Compute(src.Height, h, f);
        int first = vert.First[0], end = vert.First[h - 1] + vert.Count[h - 1], offset = 0;
        if (w != src.Width)
        {
            var hz = ResampleCoefficients.Compute(src.Width, w, f);
            int y0 = h != src.Height ? first : 0, rows = h != src.Height ? end - first : src.Height;
            var tmp = new byte[rows * w * 3];
            for (int y = 0; y < rows; y++)
                for (int x = 0; x < w; x++)
                    for (int c = 0; c < 3; c++)
                    {
                        int s = half;
                        for (int t = 0; t < hz.Count[x]; t++) s += src.Pixels[((y0 + y) * src.Width + hz.First[x] + t) * 3 + c] * hz.Weights[x * hz.KernelSize + t];
                        tmp[(y * w + x) * 3 + c] = Clip(s);
                    }
            img = new RgbImage(w, rows, tmp);
            offset = y0;
        }
        if (h == src.Height) return img;
        var dst = new byte[h * img.Width * 3];
        for (int y = 0; y < h; y++)
            for (int i = 0; i < img.Width * 3; i++)
            {
                int s = half;
                for (int t = 0; t < vert.Count[y]; t++) s += img.Pixels[(vert.First[y] - offset + t) * img.Width * 3 + i] * vert.Weights[y * vert.KernelSize + t];
                dst[y * img.Width * 3 + i] = Clip(s);
            }
        return new RgbImage(img.Width, h, dst);
    }

    [Theory]
    [InlineData(1, 1, 5, 3, ResampleFilter.Bicubic)]
    [InlineData(37, 23, 11, 7, ResampleFilter.Bicubic)]
    [InlineData(37, 23, 100, 61, ResampleFilter.Bicubic)]
    [InlineData(101, 57, 101, 20, ResampleFilter.Lanczos)]
    [InlineData(64, 99, 17, 99, ResampleFilter.Bilinear)]
    [InlineData(200, 3, 7, 1, ResampleFilter.Box)]
    [InlineData(33, 33, 47, 12, ResampleFilter.Hamming)]
    public void Resize_EqualsScalarPilLoops(int sw, int sh, int w, int h, ResampleFilter f)
    {
        var px = new byte[sw * sh * 3];
        new Random(sw * 1000 + sh).NextBytes(px);
        var src = new RgbImage(sw, sh, px);
        Assert.Equal(Reference(src, w, h, f).Pixels, PilResampler.Resize(src, w, h, f).Pixels);
    }

    [Fact]
    public void SameSize_IsACopy()
    {
        var src = RgbImage.Filled(3, 2, 1, 2, 3);
        var r = PilResampler.Resize(src, 3, 2);
        Assert.Equal(src.Pixels, r.Pixels);
        Assert.NotSame(src.Pixels, r.Pixels);
    }

    [Fact]
    public void Nearest_IsRefused() =>
        Assert.Contains("Nearest", Assert.Throws<FurnaceException>(() => PilResampler.Resize(RgbImage.Filled(2, 2, 0, 0, 0), 1, 1, ResampleFilter.Nearest)).Message);
}
