// Activations (T, Cols) in MatMulPanel's packed layout: tiles of 8 tokens, k-major (tile i: Cols x 8 floats,
// [k][j] = x[8i + j][k]). A producer that computes rows anyway (a layer norm, an activation pass) writes them here
// with PackRow instead of leaving a row-major copy for MatMulPanel to pack in a parallel region of its own.
namespace Furnace.Tensors;

public readonly unsafe struct PanelInput
{
    internal PanelInput(float* data, int t, int cols)
    {
        Data = data;
        T = t;
        Cols = cols;
    }

    internal float* Data { get; }

    public int T { get; }

    public int Cols { get; }

    /// <summary>Token row `row` (Cols values) into its tile; rows are independent, so threads may fill disjoint rows.</summary>
    public void PackRow(int row, ReadOnlySpan<float> values)
    {
        if ((uint)row >= (uint)T) throw new ArgumentOutOfRangeException(nameof(row), row, $"row outside [0, {T})");
        if (values.Length < Cols) throw new ArgumentException($"row holds {values.Length} floats, need {Cols}");
        float* dst = Data + (long)(row / MatMulPanel.TokenTile) * Cols * MatMulPanel.TokenTile + row % MatMulPanel.TokenTile;
        fixed (float* src = values)
            for (int k = 0; k < Cols; k++) dst[(long)k * MatMulPanel.TokenTile] = src[k];
    }

    // a padding row of the last tile = 0
    internal void ClearRow(int row)
    {
        float* dst = Data + (long)(row / MatMulPanel.TokenTile) * Cols * MatMulPanel.TokenTile + row % MatMulPanel.TokenTile;
        for (int k = 0; k < Cols; k++) dst[(long)k * MatMulPanel.TokenTile] = 0f;
    }
}
