// EXIF orientation (tag 0x0112, values 1–8) applied to an RgbImage so that it displays upright;
// the same transposes as PIL.ImageOps.exif_transpose (2 FLIP_LEFT_RIGHT, 3 ROTATE_180, 4 FLIP_TOP_BOTTOM,
// 5 TRANSPOSE, 6 ROTATE_270, 7 TRANSVERSE, 8 ROTATE_90; PIL's angles are counter-clockwise).
namespace Furnace.Formats.Images;

public static class ImageOrientation
{
    public static RgbImage Apply(RgbImage src, int orientation)
    {
        if (orientation is < 1 or > 8) throw new ArgumentOutOfRangeException(nameof(orientation), $"EXIF orientation {orientation} is not 1..8");
        if (orientation == 1) return src;
        int w = src.Width, h = src.Height;
        bool swap = orientation >= 5;
        int ow = swap ? h : w, oh = swap ? w : h;
        byte[] s = src.Pixels;
        var d = new byte[s.Length];
        int di = 0;
        for (int y = 0; y < oh; y++)
        {
            for (int x = 0; x < ow; x++, di += 3)
            {
                // (sx, sy): the source pixel that lands on output (x, y)
                (int sx, int sy) = orientation switch
                {
                    2 => (w - 1 - x, y),
                    3 => (w - 1 - x, h - 1 - y),
                    4 => (x, h - 1 - y),
                    5 => (y, x),
                    6 => (y, h - 1 - x),
                    7 => (w - 1 - y, h - 1 - x),
                    _ => (w - 1 - y, x),
                };
                int si = (sy * w + sx) * 3;
                d[di] = s[si];
                d[di + 1] = s[si + 1];
                d[di + 2] = s[si + 2];
            }
        }
        return new RgbImage(ow, oh, d);
    }
}
