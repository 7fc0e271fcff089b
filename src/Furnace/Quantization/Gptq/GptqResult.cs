// What one GPTQ solve produces for a weight matrix W (rows, cols): the ggml block bytes and, for checks and for the
// calibration forward pass, the codes, their grids and the decoded weights.
using Furnace.Tensors;

namespace Furnace.Quantization.Gptq;

public sealed class GptqResult
{
    public required DType Type { get; init; }
    public required int Rows { get; init; }
    public required int Cols { get; init; }

    /// <summary>(rows, RowBytes(Type, cols)) the encoded matrix, row-major, as a GGUF tensor stores it.</summary>
    public required byte[] Data { get; init; }

    /// <summary>(rows, cols) the integer code of each weight, in its group's [Lo, Hi].</summary>
    public required int[] Codes { get; init; }

    /// <summary>(rows, cols / GroupSize) the level map of each group (BlockGrid.Read of the written blocks).</summary>
    public required LevelGrid[] Grids { get; init; }

    /// <summary>(rows, cols) Ŵ: Grids[…].Value(Codes[…]), equal bit for bit to Dequantize.Bytes(Data).</summary>
    public required float[] Dequantized { get; init; }

    /// <summary>(cols,) the column order of the sweep (identity without act-order).</summary>
    public required int[] Order { get; init; }
}
