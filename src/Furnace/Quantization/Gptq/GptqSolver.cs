// GPTQ for one weight matrix against a ggml block grid (Frantar et al. 2022, Algorithm 1 "Quantize W given inverse
// Hessian H⁻¹ = (2XXᵀ + λI)⁻¹ and blocksize B"; reference: IST-DASLab/gptq gptq.py GPTQ.fasterquant, commit
// 2d65066eeb06a5c9ff5184d8cebdf33662c67faf). W is (rows = output features, cols = input features), H (cols, cols).
//
// Steps, as in fasterquant: dead columns (diag H = 0) get W[:, j] = 0 and H[j, j] = 1; with act-order the columns are
// permuted by descending diag H (and un-permuted at the end); λ = Damp · mean(diag H) is added to the diagonal;
// U = upper Cholesky factor of H⁻¹ (torch: cholesky, cholesky_inverse, cholesky(upper=True)); then per lazy batch
// [i1, i2) of B columns, column by column: q = nearest grid level of w, err = (w − q) / U[j, j],
// W[:, j+1..i2) −= err · U[j, j+1..i2); after the batch W[:, i2..) −= Err (rows, B) · U[i1..i2, i2..).
//
// The grid is the ggml block format's: a "unit" is one block (32 elements, or a 256-element K-quant super-block) of a
// row, and its header (scale d / dmin, the 6-bit or 4-bit sub-block scales and mins) comes from ggml's own encoder
// (Quantize.Row: quantize_row_<t>_ref with the make_qx / make_qkx2 / make_q3 searches of QuantSearch) run on:
//   without act-order: the current, error-updated weights when the sweep first reaches the unit — the reference's
//     group-wise find_params with static_groups=False. (The reference reads W[:, j..j+g) there, which misses the
//     in-batch updates when g < B; we use the truly current values, including, for a unit that runs past i2, the
//     pending −Err·U[i1..j, c] of the batch so far.)
//   with act-order: the original weights (after the dead-column zeroing) — the reference's static_groups=True, the
//     only group mode it supports with act-order, as GGUF blocks are contiguous original columns.
// GPTQ then chooses every integer code against that fixed grid and BlockGrid.WriteCodes rewrites the codes of the
// ggml-encoded blocks, so the bytes are ordinary GGUF blocks that any ggml build reads.
// Rows are independent given U (each row carries its own errors), so every phase runs parallel over rows.
using Furnace.Tensors;

namespace Furnace.Quantization.Gptq;

public static class GptqSolver
{
    /// <summary>Quantizes w (rows, cols) to type t with the Hessian h (cols, cols) of its inputs.</summary>
    public static GptqResult Quantize(ReadOnlySpan<float> w, int rows, int cols, ReadOnlySpan<double> h, DType t, GptqOptions options)
    {
        options.Validate();
        if (!BlockGrid.Supports(t)) throw new FurnaceException($"GPTQ cannot produce {DTypes.Name(t)} (q4_0, q4_1, q5_0, q5_1, q8_0, q2_K … q6_K can)");
        int unit = DTypes.BlockSize(t), group = BlockGrid.GroupSize(t), blockBytes = DTypes.BlockBytes(t);
        if (cols % unit != 0) throw new FurnaceException($"GPTQ to {DTypes.Name(t)} needs rows of a multiple of {unit} elements, not {cols}");
        if (w.Length < (long)rows * cols) throw new ArgumentException($"w holds {w.Length} floats, need {rows}x{cols}");
        if (h.Length < (long)cols * cols) throw new ArgumentException($"h holds {h.Length} values, need {cols}x{cols}");

        var wd = new double[(long)rows * cols]; // W, in sweep order after the permutation
        var hd = new double[(long)cols * cols];
        for (long i = 0; i < (long)rows * cols; i++) wd[i] = w[(int)i];
        h[..(cols * cols)].CopyTo(hd);

        // dead inputs: never active in the calibration data, so their weights cannot matter (set 0, as the reference)
        for (int j = 0; j < cols; j++)
        {
            if (hd[j * cols + j] != 0) continue;
            hd[j * cols + j] = 1;
            for (int r = 0; r < rows; r++) wd[r * cols + j] = 0;
        }

        int rowBytes = checked((int)DTypes.RowBytes(t, cols));
        int groupsPerRow = cols / group;
        var data = new byte[(long)rows * rowBytes];
        var grids = new LevelGrid[(long)rows * groupsPerRow];
        var order = new int[cols];
        for (int j = 0; j < cols; j++) order[j] = j;
        if (options.ActOrder)
        {
            // static groups from the original weights (see the header), then the permutation; a stable sort keeps ties in column order
            Parallel.For(0, rows, r => EncodeUnits(wd, r, cols, 0, cols, t, data, rowBytes, grids, groupsPerRow));
            var diag = new double[cols];
            for (int j = 0; j < cols; j++) diag[j] = hd[j * cols + j];
            order = Enumerable.Range(0, cols).OrderByDescending(j => diag[j]).ToArray();
            Permute(wd, hd, rows, cols, order);
        }

        double[] u = InverseCholeskyUpper(hd, cols, options.Damp);

        var codes = new int[(long)rows * cols];
        var deq = new float[(long)rows * cols];
        int bs = options.BlockSize;
        var err = new double[(long)rows * bs]; // Err (rows, B) of the current batch
        for (int i1 = 0; i1 < cols; i1 += bs)
        {
            int i2 = Math.Min(i1 + bs, cols), count = i2 - i1;
            Parallel.For(0, rows, r =>
            {
                Span<double> wr = wd.AsSpan(r * cols, cols);
                Span<double> er = err.AsSpan(r * bs, count);
                for (int j = i1; j < i2; j++)
                {
                    int c = order[j];
                    if (!options.ActOrder && c % unit == 0) EnterUnit(wd, r, cols, c, i1, i2, u, er, unit, t, data, rowBytes, grids, groupsPerRow);
                    LevelGrid g = grids[r * groupsPerRow + c / group];
                    int q = g.Nearest(wr[j]);
                    float v = g.Value(q);
                    codes[r * cols + c] = q;
                    deq[r * cols + c] = v;
                    double e = (wr[j] - v) / u[j * cols + j];
                    er[j - i1] = e;
                    HessianAccumulator.Axpy(wr.Slice(j + 1, i2 - j - 1), -e, u.AsSpan(j * cols + j + 1, i2 - j - 1));
                }
                // lazy batch update of the rest of the row: W[r, i2..) −= Err[r, :] · U[i1..i2, i2..)
                if (i2 < cols)
                {
                    for (int k = 0; k < count; k++)
                        HessianAccumulator.Axpy(wr.Slice(i2), -er[k], u.AsSpan((i1 + k) * cols + i2, cols - i2));
                }
            });
        }

        Parallel.For(0, rows, r =>
        {
            for (int b = 0; b < cols / unit; b++)
                BlockGrid.WriteCodes(data.AsSpan(r * rowBytes + b * blockBytes, blockBytes), t, codes.AsSpan(r * cols + b * unit, unit));
        });
        return new GptqResult { Type = t, Rows = rows, Cols = cols, Data = data, Codes = codes, Grids = grids, Dequantized = deq, Order = order };
    }

    // The sweep reaches unit [c, c + unit) of row r (no permutation, so sweep index = column) at column c within the
    // batch [i1, i2): its current weights are wd[c..i2) as they stand plus, beyond i2, the pending −Err·U[i1..c, ·].
    private static void EnterUnit(double[] wd, int r, int cols, int c, int i1, int i2, double[] u, ReadOnlySpan<double> er,
        int unit, DType t, byte[] data, int rowBytes, LevelGrid[] grids, int groupsPerRow)
    {
        Span<float> x = stackalloc float[unit];
        for (int k = 0; k < unit; k++)
        {
            int col = c + k;
            double v = wd[r * cols + col];
            if (col >= i2)
            {
                for (int j = i1; j < c; j++) v -= er[j - i1] * u[j * cols + col];
            }
            x[k] = (float)v;
        }
        Encode(x, r, c, t, data, rowBytes, grids, groupsPerRow);
    }

    // Encodes units of row r over columns [c0, c1) from the (unpermuted) wd as they stand.
    private static void EncodeUnits(double[] wd, int r, int cols, int c0, int c1, DType t, byte[] data, int rowBytes, LevelGrid[] grids, int groupsPerRow)
    {
        int unit = DTypes.BlockSize(t);
        Span<float> x = stackalloc float[unit];
        for (int c = c0; c < c1; c += unit)
        {
            for (int k = 0; k < unit; k++) x[k] = (float)wd[r * cols + c + k];
            Encode(x, r, c, t, data, rowBytes, grids, groupsPerRow);
        }
    }

    // ggml's encoder on the unit x starting at column c of row r; keeps the block (its header is the grid) and reads the grid
    private static void Encode(ReadOnlySpan<float> x, int r, int c, DType t, byte[] data, int rowBytes, LevelGrid[] grids, int groupsPerRow)
    {
        int unit = DTypes.BlockSize(t), bb = DTypes.BlockBytes(t), group = BlockGrid.GroupSize(t);
        Span<byte> block = data.AsSpan(r * rowBytes + c / unit * bb, bb);
        Tensors.Quantize.Row(block, x, t);
        BlockGrid.Read(block, t, grids.AsSpan(r * groupsPerRow + c / group, unit / group));
    }

    // wd (rows, cols) columns and hd (cols, cols) rows and columns reordered: new index j holds old order[j]
    private static void Permute(double[] wd, double[] hd, int rows, int cols, int[] order)
    {
        var tmp = new double[cols];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++) tmp[j] = wd[r * cols + order[j]];
            tmp.CopyTo(wd, r * cols);
        }
        var hp = new double[(long)cols * cols];
        for (int i = 0; i < cols; i++)
            for (int j = 0; j < cols; j++) hp[i * cols + j] = hd[order[i] * cols + order[j]];
        hp.CopyTo(hd, 0);
    }

    /// <summary>
    /// U (n, n) upper triangular with UᵀU = (H + λI)⁻¹, λ = damp · mean(diag H): the reference's
    /// cholesky → cholesky_inverse → cholesky(upper=True). H (n, n) symmetric positive definite, not modified.
    /// </summary>
    public static double[] InverseCholeskyUpper(ReadOnlySpan<double> h, int n, double damp)
    {
        var a = h[..(n * n)].ToArray();
        double mean = 0;
        for (int i = 0; i < n; i++) mean += a[i * n + i];
        double lambda = damp * mean / n;
        for (int i = 0; i < n; i++) a[i * n + i] += lambda;

        CholeskyLower(a, n); // a = L, H + λI = L Lᵀ
        // Linv (lower) by forward substitution, column by column: L · Linv = I
        var li = new double[(long)n * n];
        for (int j = 0; j < n; j++)
        {
            li[j * n + j] = 1 / a[j * n + j];
            for (int i = j + 1; i < n; i++)
            {
                double s = 0;
                for (int k = j; k < i; k++) s += a[i * n + k] * li[k * n + j];
                li[i * n + j] = -s / a[i * n + i];
            }
        }
        // (H + λI)⁻¹ = Linvᵀ Linv: entry (i, j) = Σ_{k ≥ max(i, j)} Linv[k, i] · Linv[k, j]
        var inv = new double[(long)n * n];
        Parallel.For(0, n, i =>
        {
            for (int j = i; j < n; j++)
            {
                double s = 0;
                for (int k = j; k < n; k++) s += li[k * n + i] * li[k * n + j];
                inv[i * n + j] = s;
                inv[j * n + i] = s;
            }
        });
        CholeskyLower(inv, n); // inv = L2 with H⁻¹ = L2 L2ᵀ, so U = L2ᵀ
        var u = new double[(long)n * n];
        for (int i = 0; i < n; i++)
            for (int j = i; j < n; j++) u[i * n + j] = inv[j * n + i];
        return u;
    }

    // In place: the lower triangle of a (n, n) becomes L with a = L Lᵀ (the upper triangle is left as is)
    private static void CholeskyLower(double[] a, int n)
    {
        for (int j = 0; j < n; j++)
        {
            double d = a[j * n + j];
            for (int k = 0; k < j; k++) d -= a[j * n + k] * a[j * n + k];
            if (!(d > 0)) throw new FurnaceException($"GPTQ: the Hessian is not positive definite at column {j} (raise --damp)");
            d = Math.Sqrt(d);
            a[j * n + j] = d;
            int jj = j;
            double dd = d;
            Parallel.For(j + 1, n, i =>
            {
                double s = a[i * n + jj];
                for (int k = 0; k < jj; k++) s -= a[i * n + k] * a[jj * n + k];
                a[i * n + jj] = s / dd;
            });
        }
    }
}
