// Reader of NumPy .npy files. ReadFloat32: float32 arrays (format versions 1.0 and 2.0, little-endian '<f4', C order) —
// the files NpyWriter writes and numpy.save writes for float32; anything else (other dtypes, Fortran order, a truncated
// or padded data section) is a FurnaceFormatException naming the file: callers such as the pixel cache treat that as
// "rebuild". Read: C-order little-endian float32/float64/int32/int64 arrays (versions 1.0–3.0) widened to double, for
// exchange with PyTorch reference scripts.
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;

namespace Furnace.Formats.Npy;

public static partial class NpyReader
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

    /// <summary>The array's shape (outermost first; empty for a scalar) and its values in C order.</summary>
    public static (int[] Shape, double[] Values) Read(string path)
    {
        byte[] b = File.Exists(path) ? File.ReadAllBytes(path) : throw new FurnaceException($"{path}: file not found");
        if (b.Length < 10 || b[0] != 0x93 || Encoding.ASCII.GetString(b, 1, 5) != "NUMPY") throw new FurnaceFormatException(path, "not a .npy file");
        int major = b[6];
        int headerLen, at;
        if (major == 1) (headerLen, at) = (BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(8)), 10);
        else if (major is 2 or 3 && b.Length >= 12) (headerLen, at) = (checked((int)BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(8))), 12);
        else throw new FurnaceFormatException(path, $".npy version {major} is not supported");
        if (at + headerLen > b.Length) throw new FurnaceFormatException(path, "truncated header");
        string header = Encoding.ASCII.GetString(b, at, headerLen);
        var descr = Descr().Match(header);
        var order = Fortran().Match(header);
        var shape = ShapeRx().Match(header);
        if (!descr.Success || !order.Success || !shape.Success) throw new FurnaceFormatException(path, $"unreadable header {header.Trim()}");
        if (order.Groups[1].Value == "True") throw new FurnaceFormatException(path, "Fortran-order arrays are not supported");
        int[] dims = shape.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        long n = dims.Aggregate(1L, (x, y) => x * y);
        string dtype = descr.Groups[1].Value;
        int size = dtype switch { "<f4" or "<i4" => 4, "<f8" or "<i8" => 8, _ => throw new FurnaceFormatException(path, $"dtype '{dtype}' is not supported (<f4, <f8, <i4, <i8)") };
        int data = at + headerLen;
        if (data + n * size > b.Length) throw new FurnaceFormatException(path, $"holds {b.Length - data} data bytes, shape ({string.Join(", ", dims)}) {dtype} needs {n * size}");
        var v = new double[n];
        for (long i = 0; i < n; i++)
        {
            var s = b.AsSpan((int)(data + i * size), size);
            v[i] = dtype switch
            {
                "<f4" => BinaryPrimitives.ReadSingleLittleEndian(s),
                "<f8" => BinaryPrimitives.ReadDoubleLittleEndian(s),
                "<i4" => BinaryPrimitives.ReadInt32LittleEndian(s),
                _ => BinaryPrimitives.ReadInt64LittleEndian(s),
            };
        }
        return (dims, v);
    }

    [GeneratedRegex(@"'descr':\s*'([^']*)'")]
    private static partial Regex Descr();

    [GeneratedRegex(@"'fortran_order':\s*(True|False)")]
    private static partial Regex Fortran();

    [GeneratedRegex(@"'shape':\s*\(([^)]*)\)")]
    private static partial Regex ShapeRx();
}
