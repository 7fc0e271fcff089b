// F32 weights W (Rows, Cols) repacked once for MatMulPanel, the layout BLAS packs its B operand into on every call
// (ONNX Runtime's MLAS pre-packs constant weights once the same way): panels of 32 output rows, each stored k-major,
//   panel p = Cols x 32 floats, element [k][j] = W[32p + j][k];  rows past Rows are zero.
// A GEMM then reads one contiguous 128-byte line pair per k for 32 outputs instead of packing (or dot-producting)
// row-major weights per call. Costs one f32 copy of the matrix; the row-major source stays untouched.
using System.Runtime.Intrinsics;

namespace Furnace.Tensors;

public sealed unsafe class PanelMatrix : IDisposable
{
    public const int Width = 32;

    private readonly NativeBuffer _buffer;

    private PanelMatrix(NativeBuffer buffer, int rows, int cols)
    {
        _buffer = buffer;
        Rows = rows;
        Cols = cols;
        Panels = (rows + Width - 1) / Width;
    }

    public int Rows { get; }

    public int Cols { get; }

    public int Panels { get; }

    public long Bytes => _buffer.Length;

    /// <summary>True where MatMulPanel runs (AVX-512) and w is a row-major F32 matrix.</summary>
    public static bool Supports(WeightMatrix w) =>
        Vector512.IsHardwareAccelerated && w.Type == DType.F32 && w.Layout == WeightLayout.RowMajor;

    internal float* Panel(int p) => (float*)_buffer.Data + (long)p * Cols * Width;

    /// <summary>The panel layout of a row-major F32 matrix, packed on ctx's threads.</summary>
    public static PanelMatrix Pack(WeightMatrix w, KernelContext ctx)
    {
        if (w.Type != DType.F32 || w.Layout != WeightLayout.RowMajor)
            throw new ArgumentException($"only row-major F32 matrices pack into panels, not {DTypes.Name(w.Type)}");
        int panels = (w.Rows + Width - 1) / Width;
        var buffer = new NativeBuffer((long)panels * w.Cols * Width * sizeof(float)); // zeroed: padding rows stay 0
        var m = new PanelMatrix(buffer, w.Rows, w.Cols);
        var job = new PackJob { W = w, M = m };
        ctx.Run(ref job, panels);
        return m;
    }

    public void Dispose() => _buffer.Dispose();

    private struct PackJob : IParallelJob
    {
        public WeightMatrix W;
        public PanelMatrix M;

        public readonly void Execute(int start, int end, int thread)
        {
            int cols = W.Cols;
            for (int p = start; p < end; p++)
            {
                float* dst = M.Panel(p);
                for (int j = 0; j < Width && p * Width + j < W.Rows; j++)
                {
                    var row = (float*)W.Row(p * Width + j);
                    for (int k = 0; k < cols; k++) dst[(long)k * Width + j] = row[k];
                }
            }
        }
    }
}
