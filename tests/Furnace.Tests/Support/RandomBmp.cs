// Test support: an uncompressed 24-bit bottom-up BMP of seeded random pixels, the image the VLM tests and the serving
// load test send. Shared by Furnace.Tests, Furnace.Cli.Tests and bench/Furnace.Bench.Serve (linked source).
using System.Text;

namespace Furnace.Tests.Support;

public static class RandomBmp
{
    public static byte[] Bytes(int w, int h, int seed)
    {
        int stride = (w * 3 + 3) & ~3, size = 54 + stride * h;
        var b = new byte[size];
        Encoding.ASCII.GetBytes("BM").CopyTo(b, 0);
        BitConverter.GetBytes(size).CopyTo(b, 2);
        BitConverter.GetBytes(54).CopyTo(b, 10);
        BitConverter.GetBytes(40).CopyTo(b, 14);
        BitConverter.GetBytes(w).CopyTo(b, 18);
        BitConverter.GetBytes(h).CopyTo(b, 22);
        BitConverter.GetBytes((short)1).CopyTo(b, 26);
        BitConverter.GetBytes((short)24).CopyTo(b, 28);
        BitConverter.GetBytes(stride * h).CopyTo(b, 34);
        var rng = new Random(seed);
        for (int y = 0; y < h; y++) rng.NextBytes(b.AsSpan(54 + y * stride, w * 3));
        return b;
    }

    public static void Write(string path, int w, int h, int seed) => File.WriteAllBytes(path, Bytes(w, h, seed));
}
