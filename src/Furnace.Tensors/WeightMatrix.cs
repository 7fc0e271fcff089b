// A read-only 2-D weight matrix W (Rows, Cols) in any DType, rows contiguous, living in memory owned by
// someone else (a memory-mapped checkpoint or a pinned array kept alive by the owner).
// For llama.cpp-style checkpoints Rows = output features, Cols = input features (ggml ne[1], ne[0]).
namespace Furnace.Tensors;

public readonly unsafe struct WeightMatrix
{
    public readonly byte* Data;
    public readonly int Rows;
    public readonly int Cols;
    public readonly DType Type;

    public WeightMatrix(byte* data, int rows, int cols, DType type)
    {
        if (rows <= 0 || cols <= 0) throw new ArgumentException($"matrix shape ({rows}, {cols}) must be positive");
        Data = data;
        Rows = rows;
        Cols = cols;
        Type = type;
        RowBytes = DTypes.RowBytes(type, cols);
    }

    public long RowBytes { get; }

    public long ByteLength => RowBytes * Rows;

    public byte* Row(int r) => Data + r * RowBytes;

    /// <summary>The stored bytes of row r (blocks or elements of Type).</summary>
    public ReadOnlySpan<byte> RowSpan(int r)
    {
        if ((uint)r >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(r), r, $"row outside [0, {Rows})");
        return new ReadOnlySpan<byte>(Row(r), checked((int)RowBytes));
    }
}
