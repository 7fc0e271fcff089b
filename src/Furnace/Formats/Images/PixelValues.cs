// A preprocessed image: float32 (channels, height, width), row-major — one item of transformers' "pixel_values".
namespace Furnace.Formats.Images;

public sealed class PixelValues
{
    public PixelValues(int channels, int height, int width, float[] data)
    {
        if (data.Length != (long)channels * height * width)
            throw new ArgumentException($"{data.Length} values do not fill ({channels}, {height}, {width})", nameof(data));
        Channels = channels;
        Height = height;
        Width = width;
        Data = data;
    }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>(Channels, Height, Width) values.</summary>
    public float[] Data { get; }

    public int[] Shape => [Channels, Height, Width];

    public float this[int c, int y, int x] => Data[((long)c * Height + y) * Width + x];

    public override string ToString() => $"PixelValues ({Channels}, {Height}, {Width})";
}
