// A decoded picture as the rest of the pipeline sees it: 8-bit RGB, rows top to bottom, pixels interleaved
// (HWC, the layout of numpy.asarray(PIL.Image.convert("RGB"))).
namespace Furnace.Formats.Images;

public sealed class RgbImage
{
    public RgbImage(int width, int height, byte[] pixels)
    {
        if (width <= 0 || height <= 0) throw new ArgumentOutOfRangeException(nameof(width), $"image size {width}x{height} must be positive");
        ArgumentNullException.ThrowIfNull(pixels);
        if (pixels.Length != (long)width * height * 3)
            throw new ArgumentException($"{pixels.Length} bytes do not hold a {width}x{height} RGB image ({(long)width * height * 3} bytes)", nameof(pixels));
        Width = width;
        Height = height;
        Pixels = pixels;
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>Height × Width × 3 bytes, R G B per pixel.</summary>
    public byte[] Pixels { get; }

    public int Stride => Width * 3;

    /// <summary>An image of one colour.</summary>
    public static RgbImage Filled(int width, int height, byte r, byte g, byte b)
    {
        var px = new byte[(long)width * height * 3];
        for (int i = 0; i < px.Length; i += 3)
        {
            px[i] = r;
            px[i + 1] = g;
            px[i + 2] = b;
        }
        return new RgbImage(width, height, px);
    }

    public override string ToString() => $"RgbImage {Width}x{Height}";
}
