// The deterministic textured image every vision benchmark encodes (smooth gradients plus seeded noise), as RGB
// bytes, as CLIP-normalized pixels, and as a BMP file for the CLI's --image.
internal static class BenchImage
{
    public static byte[] Rgb(int size)
    {
        var rng = new Random(1);
        var rgb = new byte[size * size * 3];
        for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
        for (int c = 0; c < 3; c++)
            rgb[(y * size + x) * 3 + c] = (byte)Math.Clamp((x + 2 * y) / 3 + 40 * c + rng.Next(-30, 30), 0, 255);
        return rgb;
    }

    /// <summary>(3, S, S) planes normalized with OpenAI CLIP's mean and std.</summary>
    public static float[] ClipPixels(int size)
    {
        float[] mean = [0.48145466f, 0.4578275f, 0.40821073f], std = [0.26862954f, 0.26130258f, 0.27577711f];
        byte[] rgb = Rgb(size);
        var pixels = new float[3 * size * size];
        for (int c = 0; c < 3; c++)
        for (int i = 0; i < size * size; i++)
            pixels[c * size * size + i] = (rgb[i * 3 + c] / 255f - mean[c]) / std[c];
        return pixels;
    }

    /// <summary>A 24-bit bottom-up BMP of the image.</summary>
    public static void WriteBmp(string path, int size) => WriteBmp(path, size, size, Rgb(size));

    /// <summary>A 24-bit bottom-up BMP of interleaved RGB bytes (height, width, 3).</summary>
    public static void WriteBmp(string path, int width, int height, byte[] rgb)
    {
        int stride = (width * 3 + 3) & ~3, bytes = 54 + stride * height;
        var b = new byte[bytes];
        void I32(int at, int v) => BitConverter.GetBytes(v).CopyTo(b, at);
        b[0] = (byte)'B';
        b[1] = (byte)'M';
        I32(2, bytes);
        I32(10, 54);
        I32(14, 40);
        I32(18, width);
        I32(22, height);
        b[26] = 1;
        b[28] = 24;
        I32(34, stride * height);
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            int src = ((height - 1 - y) * width + x) * 3, dst = 54 + y * stride + x * 3;
            b[dst] = rgb[src + 2];
            b[dst + 1] = rgb[src + 1];
            b[dst + 2] = rgb[src];
        }
        File.WriteAllBytes(path, b);
    }
}
