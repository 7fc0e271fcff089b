// Reads NumPy .npy float32 arrays (format versions 1.0 and 2.0, little-endian '<f4', C order) — the files NpyWriter
// writes and numpy.save writes for float32. Anything else (other dtypes, Fortran order, a truncated or padded data
// section) is a FurnaceFormatException naming the file: callers such as the pixel cache treat that as "rebuild".
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Furnace.Formats.Npy;

public static class NpyReader
{
    public static (int[] Shape, float[] Data) ReadFloat32(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FurnaceException($"{path}: file not found");
        }
        return ReadFloat32(bytes, path);
    }

    public static (int[] Shape, float[] Data) ReadFloat32(ReadOnlySpan<byte> b, string source)
    {
        if (b.Length < 10 || b[0] != 0x93 || !b[1..6].SequenceEqual("NUMPY"u8)) throw new FurnaceFormatException(source, "not a .npy file (bad magic)");
        int major = b[6];
        int headerLen, start;
        if (major == 1)
        {
            headerLen = BinaryPrimitives.ReadUInt16LittleEndian(b[8..]);
            start = 10;
        }
        else if (major is 2 && b.Length >= 12)
        {
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(b[8..]);
            if (len > int.MaxValue - 12) throw new FurnaceFormatException(source, $".npy header length {len} is too large");
            headerLen = (int)len;
            start = 12;
        }
        else throw new FurnaceFormatException(source, $".npy version {major}.{b[7]} is not supported (1.0, 2.0)");
        if (start + headerLen > b.Length) throw new FurnaceFormatException(source, ".npy header is truncated");
        string header = Encoding.Latin1.GetString(b.Slice(start, headerLen));
        if (!header.Contains("'descr': '<f4'", StringComparison.Ordinal))
            throw new FurnaceFormatException(source, $".npy dtype is not little-endian float32 ('<f4'): {header.Trim()}");
        if (!header.Contains("'fortran_order': False", StringComparison.Ordinal))
            throw new FurnaceFormatException(source, ".npy array is in Fortran order (only C order is read)");
        int s = header.IndexOf("'shape': (", StringComparison.Ordinal);
        int e = s < 0 ? -1 : header.IndexOf(')', s);
        if (e < 0) throw new FurnaceFormatException(source, $".npy header has no shape: {header.Trim()}");
        string[] dims = header[(s + 10)..e].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var shape = new int[dims.Length];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (!int.TryParse(dims[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new FurnaceFormatException(source, $".npy shape entry '{dims[i]}' is not a dimension");
            count *= shape[i];
            if (count > int.MaxValue / 4) throw new FurnaceFormatException(source, ".npy array is too large");
        }
        ReadOnlySpan<byte> data = b[(start + headerLen)..];
        if (data.Length != count * 4)
            throw new FurnaceFormatException(source, $".npy data is {data.Length} bytes, shape ({string.Join(", ", shape)}) float32 needs {count * 4}");
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("big-endian hosts are not supported");
        var values = new float[count];
        data.CopyTo(MemoryMarshal.AsBytes(values.AsSpan()));
        return (shape, values);
    }
}
