// PIL-exact resizing of 8-bit RGB images: Image.resize((w, h), filter) for the convolution filters.
// Mirrors Pillow's libImaging/Resample.c (ImagingResampleInner, ImagingResampleHorizontal_8bpc and
// ImagingResampleVertical_8bpc): a horizontal pass over only the source rows the vertical pass will read,
// then a vertical pass; an axis whose size does not change is skipped; each sum starts at 2^21 (rounding),
// is shifted right by 22 and clamped to 0..255 — so the output matches PIL byte for byte.
namespace Furnace.Formats.Images;

public static class PilResampler
{
    public static RgbImage Resize(RgbImage src, int width, int height, ResampleFilter filter = ResampleFilter.Bicubic)
    {
        ArgumentNullException.ThrowIfNull(src);
        if (width <= 0 || height <= 0) throw new FurnaceException($"resize target {width}x{height} must be positive");
        if (filter == ResampleFilter.Nearest) throw new FurnaceException("resample filter Nearest (0) is not supported");
        bool horizontal = width != src.Width, vertical = height != src.Height;
        if (!horizontal && !vertical) return new RgbImage(width, height, (byte[])src.Pixels.Clone());

        var vert = ResampleCoefficients.Compute(src.Height, height, filter);
        int rowFirst = vert.First[0];
        int rowEnd = vert.First[height - 1] + vert.Count[height - 1];

        RgbImage stage = src;
        int rowOffset = 0;
        if (horizontal)
        {
            var horiz = ResampleCoefficients.Compute(src.Width, width, filter);
            int rows = vertical ? rowEnd - rowFirst : src.Height;
            int start = vertical ? rowFirst : 0;
            var tmp = new byte[(long)rows * width * 3];
            Horizontal(src.Pixels, src.Width, start, rows, tmp, width, horiz);
            stage = new RgbImage(width, rows, tmp);
            rowOffset = start;
        }
        if (!vertical) return stage;
        var dst = new byte[(long)height * stage.Width * 3];
        Vertical(stage.Pixels, stage.Width, rowOffset, dst, height, vert);
        return new RgbImage(stage.Width, height, dst);
    }

    // src (rows ≥ firstRow + rows, srcWidth, 3) -> dst (rows, dstWidth, 3), rows taken from firstRow on.
    private static void Horizontal(byte[] src, int srcWidth, int firstRow, int rows, byte[] dst, int dstWidth, ResampleCoefficients c)
    {
        const int half = 1 << (ResampleCoefficients.PrecisionBits - 1);
        int ksize = c.KernelSize;
        int[] weights = c.Weights, first = c.First, count = c.Count;
        for (int y = 0; y < rows; y++)
        {
            ReadOnlySpan<byte> row = src.AsSpan((firstRow + y) * srcWidth * 3, srcWidth * 3);
            Span<byte> outRow = dst.AsSpan(y * dstWidth * 3, dstWidth * 3);
            for (int xx = 0; xx < dstWidth; xx++)
            {
                ReadOnlySpan<int> k = weights.AsSpan(xx * ksize, count[xx]);
                ReadOnlySpan<byte> px = row.Slice(first[xx] * 3, k.Length * 3);
                int s0 = half, s1 = half, s2 = half;
                for (int x = 0; x < k.Length; x++)
                {
                    int w = k[x];
                    s0 += px[x * 3] * w;
                    s1 += px[x * 3 + 1] * w;
                    s2 += px[x * 3 + 2] * w;
                }
                outRow[xx * 3] = Clip8(s0);
                outRow[xx * 3 + 1] = Clip8(s1);
                outRow[xx * 3 + 2] = Clip8(s2);
            }
        }
    }

    // src (.., width, 3) -> dst (dstHeight, width, 3); c.First is in source rows, shifted by -rowOffset.
    private static void Vertical(byte[] src, int width, int rowOffset, byte[] dst, int dstHeight, ResampleCoefficients c)
    {
        const int half = 1 << (ResampleCoefficients.PrecisionBits - 1);
        int stride = width * 3;
        var acc = new int[stride];
        for (int yy = 0; yy < dstHeight; yy++)
        {
            ReadOnlySpan<int> k = c.Weights.AsSpan(yy * c.KernelSize, c.Count[yy]);
            int ymin = c.First[yy] - rowOffset;
            acc.AsSpan().Fill(half);
            // Row by row: the same integer sums as PIL's per-pixel loop (integer addition is associative).
            for (int y = 0; y < k.Length; y++)
            {
                int w = k[y];
                ReadOnlySpan<byte> row = src.AsSpan((ymin + y) * stride, stride);
                for (int i = 0; i < row.Length; i++) acc[i] += row[i] * w;
            }
            Span<byte> outRow = dst.AsSpan(yy * stride, stride);
            for (int i = 0; i < stride; i++) outRow[i] = Clip8(acc[i]);
        }
    }

    private static byte Clip8(int sum)
    {
        int v = sum >> ResampleCoefficients.PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }
}
