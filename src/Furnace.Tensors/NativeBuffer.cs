// An owned, 64-byte aligned block of native memory that can be viewed as WeightMatrix rows: for weights
// converted in memory (quantized or repacked at load, test matrices) rather than memory-mapped from a checkpoint.
using System.Runtime.InteropServices;

namespace Furnace.Tensors;

public sealed unsafe class NativeBuffer : IDisposable
{
    private byte* _data;

    public NativeBuffer(long bytes)
        : this(bytes, clear: true)
    {
    }

    // clear: false leaves the contents undefined, for buffers the caller fills completely.
    private NativeBuffer(long bytes, bool clear)
    {
        if (bytes <= 0) throw new ArgumentOutOfRangeException(nameof(bytes), bytes, "size must be positive");
        _data = (byte*)NativeMemory.AlignedAlloc((nuint)bytes, 64);
        if (clear) NativeMemory.Clear(_data, (nuint)bytes);
        Length = bytes;
    }

    /// <summary>An uninitialized buffer, for a caller that writes every byte.</summary>
    public static NativeBuffer ForOverwrite(long bytes) => new(bytes, clear: false);

    /// <summary>A buffer holding <paramref name="rows"/> rows of <paramref name="src"/> encoded as <paramref name="type"/>.</summary>
    public static NativeBuffer FromFloats(ReadOnlySpan<float> src, int rows, int cols, DType type)
    {
        if (src.Length < (long)rows * cols) throw new ArgumentException($"src holds {src.Length} floats, need {rows}x{cols}");
        long rowBytes = DTypes.RowBytes(type, cols);
        var buf = new NativeBuffer(rowBytes * rows);
        for (int r = 0; r < rows; r++)
            Quantize.Row(new Span<byte>(buf._data + r * rowBytes, (int)rowBytes), src.Slice(r * cols, cols), type);
        return buf;
    }

    public long Length { get; }

    public byte* Data => _data != null ? _data : throw new ObjectDisposedException(nameof(NativeBuffer));

    public Span<byte> Bytes => new(Data, checked((int)Length));

    public WeightMatrix AsMatrix(int rows, int cols, DType type)
    {
        var w = new WeightMatrix(Data, rows, cols, type);
        if (w.ByteLength > Length) throw new ArgumentException($"({rows}, {cols}) {DTypes.Name(type)} needs {w.ByteLength} bytes, buffer holds {Length}");
        return w;
    }

    public void Dispose()
    {
        NativeMemory.AlignedFree(_data);
        _data = null;
    }
}
