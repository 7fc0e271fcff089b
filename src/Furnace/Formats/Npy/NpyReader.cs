// Reader of NumPy .npy files (numpy/lib/format.py, versions 1.0–3.0): C-order little-endian float32/float64/int32/int64
// arrays, widened to double (exchange with PyTorch reference scripts, checkpoints of arrays). Fortran order and
// other dtypes are refused with the file name and the dtype.
using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace Furnace.Formats.Npy;

public static partial class NpyReader
{
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
