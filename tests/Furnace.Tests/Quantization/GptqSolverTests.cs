// GptqSolver against a PyTorch float64 GPTQ written from the paper's Algorithm 1 (Oracles/gptq_reference.py), given
// the same W, H and the grid the solver chose: the integer codes must be identical (no ties are allowed for: with
// float64 on both sides a tie needs (w + min)/scale to land on a half integer within ~1e-12, which these seeded cases
// never do). Also: the written blocks decode (Dequantize.Bytes) to exactly the grid values, and GPTQ's layer error
// tr((W − Ŵ) H (W − Ŵ)ᵀ) is below round-to-nearest's.
using System.Runtime.InteropServices;
using System.Text.Json;
using Furnace.Quantization.Gptq;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Quantization;

public sealed class GptqSolverTests
{
    // W (rows, cols) ~ N(0, 1) with a few large outliers; X (n, cols) = Z · M with a mixing M so that H is far from
    // diagonal and its diagonal spread (act-order matters); column `dead` of X is 0.
    private static (float[] W, double[] H) Problem(int rows, int cols, int seed, int dead = 5)
    {
        var rng = new Random(seed);
        float Gauss() => (float)(Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble()));
        var w = new float[rows * cols];
        for (int i = 0; i < w.Length; i++) w[i] = 0.05f * Gauss() * (rng.Next(50) == 0 ? 6 : 1);
        int n = 2 * cols;
        var z = new float[n * cols];
        for (int i = 0; i < z.Length; i++) z[i] = Gauss();
        var x = new float[n * cols];
        for (int t = 0; t < n; t++)
        {
            for (int j = 0; j < cols; j++)
            {
                // x[t, j] = z[t, j] · (1 + j mod 7) + 0.5 · z[t, (j + 1) mod cols] + 0.25 · z[t, (j + 17) mod cols]
                x[t * cols + j] = j == dead ? 0 : z[t * cols + j] * (1 + j % 7) + 0.5f * z[t * cols + (j + 1) % cols] + 0.25f * z[t * cols + (j + 17) % cols];
            }
        }
        var acc = new HessianAccumulator(cols);
        acc.Add(x, n);
        return (w, acc.Hessian());
    }

    public static TheoryData<string, bool, int> Cases => new()
    {
        { "q4_0", false, 128 },
        { "q4_0", true, 128 },
        { "q8_0", false, 128 },
        { "q4_1", false, 64 },
        { "q5_0", true, 128 },
        { "q4_K", false, 128 },
        { "q4_K", true, 128 },
        { "q3_K", false, 128 },
        { "q3_K", false, 96 },
        { "q2_K", false, 128 },
        { "q2_K", true, 128 },
        { "q5_K", false, 128 },
        { "q6_K", false, 128 },
    };

    [Fact]
    public void Quantize_SameWHAndGridAsPyTorchAlgorithm1_IdenticalCodes()
    {
        const int rows = 24, cols = 512;
        using var dir = new TempDir();
        var cases = new List<(string Dir, GptqResult R)>();
        int k = 0;
        foreach (object[] c in Cases)
        {
            string name = (string)c[0];
            bool actOrder = (bool)c[1];
            int block = (int)c[2];
            Assert.True(DTypes.TryParse(name, out DType t));
            var (w, h) = Problem(rows, cols, 100 + k);
            var opt = new GptqOptions { ActOrder = actOrder, BlockSize = block, Damp = 0.01 };
            GptqResult r = GptqSolver.Quantize(w, rows, cols, h, t, opt);
            string d = dir.File($"case{k++}");
            Directory.CreateDirectory(d);
            File.WriteAllText(Path.Combine(d, "meta.json"), JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["rows"] = rows, ["cols"] = cols, ["group"] = BlockGrid.GroupSize(t), ["damp"] = opt.Damp, ["block"] = block, ["act_order"] = actOrder,
            }));
            File.WriteAllBytes(Path.Combine(d, "w.f32"), MemoryMarshal.AsBytes(w.AsSpan()).ToArray());
            File.WriteAllBytes(Path.Combine(d, "h.f64"), MemoryMarshal.AsBytes(h.AsSpan()).ToArray());
            var grid = new byte[r.Grids.Length * 20];
            for (int g = 0; g < r.Grids.Length; g++)
            {
                LevelGrid lg = r.Grids[g];
                BitConverter.TryWriteBytes(grid.AsSpan(g * 20), lg.Scale);
                BitConverter.TryWriteBytes(grid.AsSpan(g * 20 + 4), lg.Min);
                BitConverter.TryWriteBytes(grid.AsSpan(g * 20 + 8), lg.Zero);
                BitConverter.TryWriteBytes(grid.AsSpan(g * 20 + 12), lg.Lo);
                BitConverter.TryWriteBytes(grid.AsSpan(g * 20 + 16), lg.Hi);
            }
            File.WriteAllBytes(Path.Combine(d, "grid.bin"), grid);
            File.WriteAllBytes(Path.Combine(d, "order.i32"), MemoryMarshal.AsBytes(r.Order.AsSpan()).ToArray());
            cases.Add((d, r));
        }
        string req = dir.File("cases.json");
        File.WriteAllText(req, JsonSerializer.Serialize(cases.Select(c => c.Dir).ToArray()));
        PyTorchOracle.Run("gptq_reference.py", req);

        for (int i = 0; i < cases.Count; i++)
        {
            int[] expect = MemoryMarshal.Cast<byte, int>(File.ReadAllBytes(Path.Combine(cases[i].Dir, "codes.i32"))).ToArray();
            int[] got = cases[i].R.Codes;
            int diff = 0;
            for (int j = 0; j < got.Length; j++) diff += got[j] != expect[j] ? 1 : 0;
            Assert.True(diff == 0, $"case {i} ({cases[i].R.Type}): {diff} of {got.Length} codes differ from the PyTorch reference");
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Quantize_WrittenBlocks_DecodeToExactlyTheChosenGridValues(string name, bool actOrder, int block)
    {
        Assert.True(DTypes.TryParse(name, out DType t));
        const int rows = 8, cols = 512;
        var (w, h) = Problem(rows, cols, 7);
        GptqResult r = GptqSolver.Quantize(w, rows, cols, h, t, new GptqOptions { ActOrder = actOrder, BlockSize = block });
        var decoded = new float[cols];
        int rowBytes = (int)DTypes.RowBytes(t, cols), group = BlockGrid.GroupSize(t);
        for (int row = 0; row < rows; row++)
        {
            Dequantize.Bytes(decoded, r.Data.AsSpan(row * rowBytes, rowBytes), t);
            for (int j = 0; j < cols; j++)
            {
                LevelGrid g = r.Grids[row * (cols / group) + j / group];
                int q = r.Codes[row * cols + j];
                Assert.InRange(q, g.Lo, g.Hi);
                Assert.Equal(BitConverter.SingleToInt32Bits(g.Value(q)), BitConverter.SingleToInt32Bits(r.Dequantized[row * cols + j]));
                Assert.Equal(BitConverter.SingleToInt32Bits(r.Dequantized[row * cols + j]), BitConverter.SingleToInt32Bits(decoded[j]));
            }
        }
    }

    [Theory]
    [InlineData("q4_0")]
    [InlineData("q3_K")]
    [InlineData("q2_K")]
    [InlineData("q4_K")]
    [InlineData("q8_0")]
    public void Quantize_CorrelatedInputs_LayerErrorBelowRoundToNearest(string name)
    {
        Assert.True(DTypes.TryParse(name, out DType t));
        const int rows = 16, cols = 512;
        var (w, h) = Problem(rows, cols, 11);
        GptqResult r = GptqSolver.Quantize(w, rows, cols, h, t, new GptqOptions());
        var rtn = new float[rows * cols];
        var buf = new byte[DTypes.RowBytes(t, cols)];
        for (int row = 0; row < rows; row++)
        {
            Tensors.Quantize.Row(buf, w.AsSpan(row * cols, cols), t);
            Dequantize.Bytes(rtn.AsSpan(row * cols, cols), buf, t);
        }
        // the dead column's weight cannot matter: compare on the live columns (H[5, 5] = 0 keeps it out of the trace)
        double eg = LayerError(w, r.Dequantized, h, rows, cols), er = LayerError(w, rtn, h, rows, cols);
        Assert.True(eg < er, $"{name}: GPTQ error {eg:G4} is not below round-to-nearest's {er:G4}");
    }

    // tr((W − Ŵ) H (W − Ŵ)ᵀ) = 2/N ‖(W − Ŵ) X‖²
    internal static double LayerError(float[] w, float[] q, double[] h, int rows, int cols)
    {
        double total = 0;
        var d = new double[cols];
        for (int r = 0; r < rows; r++)
        {
            for (int j = 0; j < cols; j++) d[j] = (double)w[r * cols + j] - q[r * cols + j];
            for (int i = 0; i < cols; i++)
            {
                double s = 0;
                for (int j = 0; j < cols; j++) s += h[i * cols + j] * d[j];
                total += d[i] * s;
            }
        }
        return total;
    }

    [Fact]
    public void Quantize_RowsNotAMultipleOfTheSuperBlock_Throws()
    {
        var (w, h) = Problem(2, 96, 1);
        var e = Assert.Throws<FurnaceException>(() => GptqSolver.Quantize(w, 2, 96, h, DType.Q4_K, new GptqOptions()));
        Assert.Contains("256", e.Message);
    }
}
