// NumPy .npy format version 1.0 (numpy/lib/format.py): "\x93NUMPY", version 1.0, a little-endian uint16 header
// length, a Python-literal header dict padded with spaces to a 64-byte boundary and ended by '\n', then the raw
// C-order data. Written atomically, so a crash never leaves half a tensor behind.
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Furnace.IO;

namespace Furnace.Formats.Npy;

public static class NpyWriter
{
    private static readonly byte[] Magic = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0];

    /// <summary>Writes a float32 array of the given shape to path (replacing it atomically).</summary>
    public static void WriteFloat32(string path, int[] shape, float[] data)
    {
        CheckShape(shape, data.Length);
        AtomicFile.Write(path, s => WriteFloat32(s, shape, data));
    }

    public static void WriteFloat32(Stream stream, int[] shape, ReadOnlySpan<float> data)
    {
        CheckShape(shape, data.Length);
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': ({dims}), }}";
        int unpadded = Magic.Length + 2 + dict.Length + 1;
        int total = (unpadded + 63) / 64 * 64;
        string header = dict + new string(' ', total - unpadded) + "\n";
        Span<byte> len = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(len, checked((ushort)header.Length));
        stream.Write(Magic);
        stream.Write(len);
        stream.Write(Encoding.ASCII.GetBytes(header));
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        stream.Write(MemoryMarshal.AsBytes(data));
    }

    private static void CheckShape(int[] shape, int count)
    {
        long n = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"shape ({string.Join(", ", shape)}) has a negative dimension", nameof(shape));
            n *= d;
        }
        if (n != count) throw new ArgumentException($"shape ({string.Join(", ", shape)}) holds {n} values, data has {count}", nameof(shape));
    }
}
