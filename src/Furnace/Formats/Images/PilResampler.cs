// PIL-exact resizing of 8-bit RGB images: Image.resize((w, h), filter) for the convolution filters.
// Mirrors Pillow's libImaging/Resample.c (ImagingResampleInner, ImagingResampleHorizontal_8bpc and
// ImagingResampleVertical_8bpc): a horizontal pass over only the source rows the vertical pass will read,
// then a vertical pass; an axis whose size does not change is skipped; each sum starts at 2^21 (rounding),
// is shifted right by 22 and clamped to 0..255 — so the output matches PIL byte for byte.
using System.Numerics;

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
            // The horizontal pass runs as the (vectorised) vertical pass on the transposed rows: the same sums.
            byte[] t = Transpose(src.Pixels, src.Width, start, rows);
            var tmpT = new byte[(long)width * rows * 3];
            Vertical(t, rows, 0, tmpT, width, horiz);
            stage = new RgbImage(width, rows, Transpose(tmpT, rows, 0, width));
            rowOffset = start;
        }
        if (!vertical) return stage;
        var dst = new byte[(long)height * stage.Width * 3];
        Vertical(stage.Pixels, stage.Width, rowOffset, dst, height, vert);
        return new RgbImage(stage.Width, height, dst);
    }

    // src rows [firstRow, firstRow + rows) of (.., width, 3) -> (width, rows, 3).
    private static byte[] Transpose(byte[] src, int width, int firstRow, int rows)
    {
        var dst = new byte[(long)width * rows * 3];
        const int block = 32;
        for (int y0 = 0; y0 < rows; y0 += block)
        {
            int y1 = Math.Min(rows, y0 + block);
            for (int x0 = 0; x0 < width; x0 += block)
            {
                int x1 = Math.Min(width, x0 + block);
                for (int y = y0; y < y1; y++)
                {
                    int si = ((firstRow + y) * width + x0) * 3;
                    for (int x = x0; x < x1; x++, si += 3)
                    {
                        int di = (x * rows + y) * 3;
                        dst[di] = src[si];
                        dst[di + 1] = src[si + 1];
                        dst[di + 2] = src[si + 2];
                    }
                }
            }
        }
        return dst;
    }

    // src (.., width, 3) -> dst (dstHeight, width, 3); c.First is in source rows, shifted by -rowOffset.
    // Each output row is a weighted sum of whole source rows: Vector<byte> lanes widened to four Vector<int>
    // accumulators (the same integer sums as PIL's per-pixel loop), then shifted, clamped and narrowed back.
    private static void Vertical(byte[] src, int width, int rowOffset, byte[] dst, int dstHeight, ResampleCoefficients c)
    {
        const int half = 1 << (ResampleCoefficients.PrecisionBits - 1);
        int stride = width * 3, lanes = Vector<byte>.Count;
        var zero = Vector<int>.Zero;
        var max = new Vector<int>(255);
        var rounding = new Vector<int>(half);
        for (int yy = 0; yy < dstHeight; yy++)
        {
            ReadOnlySpan<int> k = c.Weights.AsSpan(yy * c.KernelSize, c.Count[yy]);
            int rowBase = (c.First[yy] - rowOffset) * stride;
            Span<byte> outRow = dst.AsSpan(yy * stride, stride);
            int i = 0;
            for (; i + lanes <= stride; i += lanes)
            {
                Vector<int> a0 = rounding, a1 = rounding, a2 = rounding, a3 = rounding;
                for (int t = 0; t < k.Length; t++)
                {
                    var v = new Vector<byte>(src.AsSpan(rowBase + t * stride + i, lanes));
                    Vector.Widen(v, out Vector<ushort> lo, out Vector<ushort> hi);
                    Vector.Widen(lo, out Vector<uint> p0, out Vector<uint> p1);
                    Vector.Widen(hi, out Vector<uint> p2, out Vector<uint> p3);
                    var w = new Vector<int>(k[t]);
                    a0 += Vector.AsVectorInt32(p0) * w;
                    a1 += Vector.AsVectorInt32(p1) * w;
                    a2 += Vector.AsVectorInt32(p2) * w;
                    a3 += Vector.AsVectorInt32(p3) * w;
                }
                Vector<uint> r0 = Clip(a0, zero, max), r1 = Clip(a1, zero, max), r2 = Clip(a2, zero, max), r3 = Clip(a3, zero, max);
                Vector.Narrow(Vector.Narrow(r0, r1), Vector.Narrow(r2, r3)).CopyTo(outRow.Slice(i, lanes));
            }
            for (; i < stride; i++)
            {
                int sum = half;
                for (int t = 0; t < k.Length; t++) sum += src[rowBase + t * stride + i] * k[t];
                outRow[i] = Clip8(sum);
            }
        }
    }

    private static Vector<uint> Clip(Vector<int> sum, Vector<int> zero, Vector<int> max) =>
        Vector.AsVectorUInt32(Vector.Min(Vector.Max(Vector.ShiftRightArithmetic(sum, ResampleCoefficients.PrecisionBits), zero), max));

    private static byte Clip8(int sum)
    {
        int v = sum >> ResampleCoefficients.PrecisionBits;
        return v < 0 ? (byte)0 : v > 255 ? (byte)255 : (byte)v;
    }
}
