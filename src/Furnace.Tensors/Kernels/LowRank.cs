// Low-rank weight updates (LoRA merge, Hu et al. 2021 eq. 3): W' = W + scale·B·A, computed row by row in float —
// row o of W decoded (F16/BF16 widened, Q8_0/Q4_0 dequantized, also from the Interleaved8 layout), plus
// Σ_k (scale·B[o,k])·A[k,:] (fused multiply-adds), then encoded as the output dtype (ggml's bit-exact quantizers).
// AddLowRankReference is the scalar twin (double accumulation) the tests compare against.
namespace Furnace.Tensors;

public static unsafe class LowRank
{
    /// <summary>
    /// W (rows, cols) + scale·B (rows, rank)·A (rank, cols) as a new RowMajor matrix of dtype outType in an owned
    /// buffer; the caller disposes the buffer. Rows are spread over ctx's threads when given.
    /// </summary>
    public static NativeBuffer AddLowRank(WeightMatrix w, float[] a, float[] b, int rank, float scale, DType outType, KernelContext? ctx, out WeightMatrix merged)
    {
        if (rank <= 0) throw new ArgumentOutOfRangeException(nameof(rank), rank, "rank must be positive");
        if (a.LongLength != (long)rank * w.Cols) throw new ArgumentException($"A holds {a.Length} floats, ({rank}, {w.Cols}) needs {(long)rank * w.Cols}");
        if (b.LongLength != (long)w.Rows * rank) throw new ArgumentException($"B holds {b.Length} floats, ({w.Rows}, {rank}) needs {(long)w.Rows * rank}");
        if (w.Cols % DTypes.BlockSize(outType) != 0) throw new ArgumentException($"row length {w.Cols} is not a multiple of the {DTypes.Name(outType)} block size");
        long rowBytes = DTypes.RowBytes(outType, w.Cols);
        var buf = NativeBuffer.ForOverwrite(rowBytes * w.Rows);
        try
        {
            var job = new Job { W = w, A = a, B = b, Rank = rank, Scale = scale, OutType = outType, Dst = buf.Data, RowBytes = rowBytes };
            if (ctx != null) ctx.Run(ref job, w.Rows, grain: 8);
            else job.Execute(0, w.Rows, 0);
            merged = buf.AsMatrix(w.Rows, w.Cols, outType);
            return buf;
        }
        catch
        {
            buf.Dispose();
            throw;
        }
    }

    /// <summary>Scalar twin of AddLowRank: dst (rows·cols) = float(W) + scale·B·A, accumulated in double.</summary>
    public static float[] AddLowRankReference(WeightMatrix w, float[] a, float[] b, int rank, float scale)
    {
        var dst = new float[(long)w.Rows * w.Cols];
        var row = new float[w.Cols];
        for (int o = 0; o < w.Rows; o++)
        {
            Dequantize.Row(row, w, o);
            for (int i = 0; i < w.Cols; i++)
            {
                double s = 0;
                for (int k = 0; k < rank; k++) s += (double)b[(long)o * rank + k] * a[(long)k * w.Cols + i];
                dst[(long)o * w.Cols + i] = (float)(row[i] + scale * s);
            }
        }
        return dst;
    }

    private struct Job : IParallelJob
    {
        public WeightMatrix W;
        public float[] A;
        public float[] B;
        public int Rank;
        public float Scale;
        public DType OutType;
        public byte* Dst;
        public long RowBytes;

        public void Execute(int start, int end, int thread)
        {
            int cols = W.Cols;
            var row = new float[cols]; // once per chunk: a load-time operation, not a hot loop
            fixed (float* r = row, pa = A)
            {
                for (int o = start; o < end; o++)
                {
                    Dequantize.Row(row, W, o);
                    for (int k = 0; k < Rank; k++)
                    {
                        float c = Scale * B[(long)o * Rank + k];
                        if (c != 0) Vec.Axpy(r, c, pa + (long)k * cols, cols);
                    }
                    Quantize.Row(new Span<byte>(Dst + o * RowBytes, checked((int)RowBytes)), row, OutType);
                }
            }
        }
    }
}
