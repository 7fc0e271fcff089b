// A read-only 2-D weight matrix W (Rows, Cols) in any DType, living in memory owned by someone else (a memory-mapped
// checkpoint, a pinned array or a NativeBuffer kept alive by the owner).
// For llama.cpp-style checkpoints Rows = output features, Cols = input features (ggml ne[1], ne[0]).
// Layout RowMajor: rows contiguous, each RowBytes long. Layout Interleaved8: Q8_0/Q4_0 blocks of 8 rows interleaved
// for the packed kernels (see Repack); Layout Interleaved16: Q4_K/Q5_K/Q6_K super-blocks of 16 rows interleaved with
// their scales pre-decoded (see RepackK). Row/RowSpan/Slice do not apply to the packed layouts, Dequantize.Row does.
namespace Furnace.Tensors;

public enum WeightLayout
{
    RowMajor,
    Interleaved8,
    Interleaved16,
}

public readonly unsafe struct WeightMatrix
{
    public readonly byte* Data;
    public readonly int Rows;
    public readonly int Cols;
    public readonly DType Type;
    public readonly WeightLayout Layout;

    public WeightMatrix(byte* data, int rows, int cols, DType type)
        : this(data, rows, cols, type, WeightLayout.RowMajor)
    {
    }

    public WeightMatrix(byte* data, int rows, int cols, DType type, WeightLayout layout)
    {
        if (rows <= 0 || cols <= 0) throw new ArgumentException($"matrix shape ({rows}, {cols}) must be positive");
        if (layout == WeightLayout.Interleaved8 && !Repack.Supports(type))
            throw new ArgumentException($"{DTypes.Name(type)} has no 8-row interleaved layout");
        if (layout == WeightLayout.Interleaved16 && !RepackK.Supports(type))
            throw new ArgumentException($"{DTypes.Name(type)} has no 16-row interleaved layout");
        Data = data;
        Rows = rows;
        Cols = cols;
        Type = type;
        Layout = layout;
        RowBytes = DTypes.RowBytes(type, cols);
    }

    public long RowBytes { get; }

    public bool IsInterleaved8 => Layout == WeightLayout.Interleaved8;

    /// <summary>Whether the matrix is in a repacked layout (Interleaved8 or Interleaved16) rather than row-major.</summary>
    public bool IsPacked => Layout != WeightLayout.RowMajor;

    // the interleaved layouts pad the row count up to a multiple of 8 (16)
    public long ByteLength => Layout switch
    {
        WeightLayout.Interleaved8 => RowBytes * ((Rows + 7) / 8 * 8),
        WeightLayout.Interleaved16 => RepackK.Interleaved16Bytes(Rows, Cols, Type),
        _ => RowBytes * Rows,
    };

    /// <summary>
    /// Rows [first, first + rows) of a RowMajor matrix as a matrix of their own, in place: one expert of a 3-D expert
    /// stack (n_expert, rows, cols) viewed as (n_expert * rows, cols), or one head of a per-head stack.
    /// </summary>
    public WeightMatrix Slice(int first, int rows)
    {
        if (IsPacked) throw new InvalidOperationException("an interleaved matrix cannot be sliced by rows");
        if (first < 0 || rows <= 0 || first + rows > Rows) throw new ArgumentOutOfRangeException(nameof(first), $"rows [{first}, {first + rows}) outside [0, {Rows})");
        return new WeightMatrix(Data + first * RowBytes, rows, Cols, Type);
    }

    // row r of a RowMajor matrix
    public byte* Row(int r) => Data + r * RowBytes;

    /// <summary>The stored bytes of row r (blocks or elements of Type) of a RowMajor matrix.</summary>
    public ReadOnlySpan<byte> RowSpan(int r)
    {
        if ((uint)r >= (uint)Rows) throw new ArgumentOutOfRangeException(nameof(r), r, $"row outside [0, {Rows})");
        if (IsPacked) throw new InvalidOperationException("an interleaved matrix has no contiguous rows; use Dequantize.Row");
        return new ReadOnlySpan<byte>(Row(r), checked((int)RowBytes));
    }
}
