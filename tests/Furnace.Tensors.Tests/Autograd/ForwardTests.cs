// Forward results of tape ops against the inference kernels they mirror or double-precision scalar references, and
// the GEMM-sized linear paths (MatMulFloatGemm, the frozen WeightMatrix streaming backward) against analytic
// gradients in double. Tolerances per test: |err| <= 2e-5·Σ|terms| + 1e-6 for products (f32 accumulation order only).
using Furnace.Tensors.Autograd;

namespace Furnace.Tensors.Tests.Autograd;

public sealed class ForwardTests
{
    // seeds the backward with d(loss)/d(y) = r through loss = Σ y ⊙ r
    private static void BackwardWith(Tape tape, Tensor y, float[] r) =>
        tape.Backward(tape.Sum(tape.Mul(y, new Tensor((int[])y.Shape.Clone(), r))));

    private static void Near(double expect, double mag, float actual, string what) =>
        Assert.True(Math.Abs(actual - expect) <= 2e-5 * mag + 1e-6, $"{what}: {actual} vs {expect} (mag {mag})");

    [Theory]
    [InlineData(133, 70, 160, 1)] // every GEMM on MatMulFloatGemm (≥128 tokens, ≥32 rows) plus row/token tails
    [InlineData(133, 70, 160, 3)]
    [InlineData(7, 19, 5, 2)]     // dot-product tiles only
    public void Linear_FloatWeights_ForwardAndGradientsMatchDoubleReference(int n, int din, int dout, int threads)
    {
        using var ctx = new KernelContext(threads);
        var tape = new Tape(ctx);
        Tensor x = GradCheck.Param([n, din], 1), w = GradCheck.Param([dout, din], 2), b = GradCheck.Param([dout], 3);
        float[] r = Reference.Random(n * dout, 4);
        Tensor y = tape.Linear(x, w, b);
        for (int i = 0; i < n; i++)
            for (int o = 0; o < dout; o++)
            {
                double s = b.Data[o], m = Math.Abs(b.Data[o]);
                for (int k = 0; k < din; k++) { s += (double)x.Data[i * din + k] * w.Data[o * din + k]; m += Math.Abs(x.Data[i * din + k] * w.Data[o * din + k]); }
                Near(s, m, y.Data[i * dout + o], $"y[{i},{o}]");
            }
        BackwardWith(tape, y, r);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < din; k++)
            {
                double s = 0, m = 0;
                for (int o = 0; o < dout; o++) { s += (double)r[i * dout + o] * w.Data[o * din + k]; m += Math.Abs(r[i * dout + o] * w.Data[o * din + k]); }
                Near(s, m, x.Grad![i * din + k], $"dx[{i},{k}]");
            }
        for (int o = 0; o < dout; o++)
        {
            for (int k = 0; k < din; k++)
            {
                double s = 0, m = 0;
                for (int i = 0; i < n; i++) { s += (double)r[i * dout + o] * x.Data[i * din + k]; m += Math.Abs(r[i * dout + o] * x.Data[i * din + k]); }
                Near(s, m, w.Grad![o * din + k], $"dw[{o},{k}]");
            }
            double sb = 0, mb = 0;
            for (int i = 0; i < n; i++) { sb += r[i * dout + o]; mb += Math.Abs(r[i * dout + o]); }
            Near(sb, mb, b.Grad![o], $"db[{o}]");
        }
    }

    [Theory]
    [InlineData(DType.F32, false)]
    [InlineData(DType.F16, false)]
    [InlineData(DType.BF16, false)]
    [InlineData(DType.Q8_0, false)]
    [InlineData(DType.Q4_0, false)]
    [InlineData(DType.Q8_0, true)]
    [InlineData(DType.Q4_0, true)]
    public void Linear_FrozenWeightMatrix_ForwardIsMatMulAndGradientIsDyTimesDequantizedWeight(DType type, bool interleaved)
    {
        const int n = 130, din = 64, dout = 300; // 300 rows in blocks of 128: two full dequantization blocks and a partial one
        using var ctx = new KernelContext(2);
        var tape = new Tape(ctx);
        int saved = Tape.DequantBlockFloats;
        Tape.DequantBlockFloats = 128 * din; // only the block size changes, never the result: safe for concurrent tests
        using var buf = NativeBuffer.FromFloats(Reference.Random(dout * din, 7), dout, din, type);
        WeightMatrix w = buf.AsMatrix(dout, din, type);
        NativeBuffer? packed = null;
        if (interleaved) packed = Repack.Interleave8(w, out w);
        using var _ = packed;
        Tensor x = GradCheck.Param([n, din], 1), b = GradCheck.Param([dout], 3);
        Tensor y = tape.Linear(tape.Scale(x, 1f), w, b); // a non-leaf input: the first block writes its gradient, later ones add
        float[] r = Reference.Random(n * dout, 4);
        try
        {
            BackwardWith(tape, y, r); // y.Data stays readable until the tape runs another op
        }
        finally
        {
            Tape.DequantBlockFloats = saved;
        }
        var expect = new float[n * dout];
        MatMul.Forward(expect, x.Data, n, w, ctx);
        for (int i = 0; i < n; i++)
            for (int o = 0; o < dout; o++) Assert.Equal(expect[i * dout + o] + b.Data[o], y.Data[i * dout + o]);
        var deq = new float[dout * din];
        for (int o = 0; o < dout; o++) Dequantize.Row(deq.AsSpan(o * din, din), w, o);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < din; k++)
            {
                double s = 0, m = 0;
                for (int o = 0; o < dout; o++) { s += (double)r[i * dout + o] * deq[o * din + k]; m += Math.Abs(r[i * dout + o] * deq[o * din + k]); }
                Near(s, m, x.Grad![i * din + k], $"dx[{i},{k}]");
            }
        Assert.NotNull(b.Grad);
    }

    [Fact]
    public void MatMulAndTranspose_Random_MatchDoubleReference()
    {
        using var ctx = new KernelContext(2);
        var tape = new Tape(ctx) { Enabled = false };
        Tensor a = GradCheck.Param([9, 13], 1), b = GradCheck.Param([13, 40], 2);
        Tensor y = tape.MatMul(a, b), t = tape.Transpose(b);
        for (int i = 0; i < 9; i++)
            for (int j = 0; j < 40; j++)
            {
                double s = 0, m = 0;
                for (int k = 0; k < 13; k++) { s += (double)a.Data[i * 13 + k] * b.Data[k * 40 + j]; m += Math.Abs(a.Data[i * 13 + k] * b.Data[k * 40 + j]); }
                Near(s, m, y.Data[i * 40 + j], $"y[{i},{j}]");
            }
        for (int k = 0; k < 13; k++)
            for (int j = 0; j < 40; j++) Assert.Equal(b.Data[k * 40 + j], t.Data[j * 13 + k]);
    }

    [Theory]
    [InlineData(true, 4, 2)]
    [InlineData(true, 4, 4)]
    [InlineData(false, 4, 1)]
    public void Attention_Random_MatchesScalarReference(bool causal, int heads, int kvHeads)
    {
        const int batch = 2, seq = 7, hd = 16;
        using var ctx = new KernelContext(2);
        var tape = new Tape(ctx) { Enabled = false };
        Tensor q = GradCheck.Param([batch * seq, heads * hd], 1), k = GradCheck.Param([batch * seq, kvHeads * hd], 2);
        Tensor v = GradCheck.Param([batch * seq, kvHeads * hd], 3);
        Tensor o = tape.Attention(q, k, v, batch, seq, heads, kvHeads, causal);
        int group = heads / kvHeads;
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < seq; i++)
                {
                    int n = causal ? i + 1 : seq, kvh = h / group;
                    var s = new double[n];
                    for (int j = 0; j < n; j++)
                    {
                        for (int c = 0; c < hd; c++)
                            s[j] += (double)q.Data[(b * seq + i) * heads * hd + h * hd + c] * k.Data[(b * seq + j) * kvHeads * hd + kvh * hd + c];
                        s[j] /= Math.Sqrt(hd);
                    }
                    double max = s.Max(), sum = s.Sum(x => Math.Exp(x - max));
                    for (int c = 0; c < hd; c++)
                    {
                        double acc = 0;
                        for (int j = 0; j < n; j++) acc += Math.Exp(s[j] - max) / sum * v.Data[(b * seq + j) * kvHeads * hd + kvh * hd + c];
                        float got = o.Data[(b * seq + i) * heads * hd + h * hd + c];
                        Assert.True(Math.Abs(got - acc) <= 1e-5, $"o[{b},{h},{i},{c}] = {got}, expected {acc}");
                    }
                }
    }

    [Theory]
    [InlineData(RopeStyle.Interleaved)]
    [InlineData(RopeStyle.HalfSplit)]
    public void Rope_Random_EqualsInferenceKernel(RopeStyle style)
    {
        var table = new RopeTable(16, 32, 10000f);
        using var ctx = new KernelContext(1);
        var tape = new Tape(ctx) { Enabled = false };
        Tensor x = GradCheck.Param([4, 3 * 16], 1);
        int[] pos = [0, 9, 31, 4];
        Tensor y = tape.Rope(x, pos, 3, 16, table, style);
        for (int r = 0; r < 4; r++)
        {
            float[] row = x.Data.AsSpan(r * 48, 48).ToArray();
            global::Furnace.Tensors.Rope.Apply(row, 3, 16, pos[r], table, style);
            Assert.Equal(row, y.Data.AsSpan(r * 48, 48).ToArray());
        }
    }

    [Fact]
    public void RowOps_Random_MatchInferenceKernels()
    {
        using var ctx = new KernelContext(2);
        var tape = new Tape(ctx) { Enabled = false };
        const int n = 3, d = 37;
        Tensor x = GradCheck.Param([n, d], 1, 3f), w = GradCheck.Param([d], 2), b = GradCheck.Param([d], 3);
        Tensor rms = tape.RmsNorm(x, w, 1e-5f), ln = tape.LayerNorm(x, w, b, 1e-5f), sm = tape.Softmax(x), l2 = tape.L2Normalize(x);
        for (int i = 0; i < n; i++)
        {
            ReadOnlySpan<float> xi = x.Data.AsSpan(i * d, d);
            var e = new float[d];
            Ops.RmsNorm(e, xi, w.Data, 1e-5f);
            Assert.Equal(e, rms.Data.AsSpan(i * d, d).ToArray());
            Ops.LayerNormScalar(e, xi, w.Data, b.Data, 1e-5f);
            for (int j = 0; j < d; j++) Assert.True(Math.Abs(e[j] - ln.Data[i * d + j]) <= 1e-5, $"layer norm [{i},{j}]");
            xi.CopyTo(e);
            Ops.Softmax(e);
            for (int j = 0; j < d; j++) Assert.True(Math.Abs(e[j] - sm.Data[i * d + j]) <= 1e-6, $"softmax [{i},{j}]");
            double norm = Math.Sqrt(xi.ToArray().Sum(v => (double)v * v));
            for (int j = 0; j < d; j++) Assert.True(Math.Abs(xi[j] / norm - l2.Data[i * d + j]) <= 1e-6, $"l2 [{i},{j}]");
        }
    }

    [Fact]
    public void Activations_Random_MatchInferenceKernels()
    {
        using var ctx = new KernelContext(2);
        var tape = new Tape(ctx) { Enabled = false };
        Tensor x = GradCheck.Param([5, 41], 1, 5f), u = GradCheck.Param([5, 41], 2);
        (Func<Tensor> op, Action<float[]> kernel, double tol)[] cases =
        [
            (() => tape.Silu(x), v => Ops.Silu(v), 1e-6),
            (() => tape.GeluTanh(x), v => Ops.GeluTanh(v), 1e-6),
            (() => tape.GeluErf(x), v => Ops.GeluErf(v), 1e-6),   // our erf fit is within 1.2e-7 of Ops.Erf
            (() => tape.QuickGelu(x), v => Ops.QuickGeluScalar(v), 1e-6),
            (() => tape.SiluMul(x, u), v => Ops.SiluMul(v, u.Data), 1e-6),
            (() => tape.Exp(x), v => { for (int i = 0; i < v.Length; i++) v[i] = MathF.Exp(v[i]); }, 0),
        ];
        foreach (var (op, kernel, tol) in cases)
        {
            float[] expect = (float[])x.Data.Clone();
            kernel(expect);
            Tensor y = op();
            for (int i = 0; i < expect.Length; i++)
                Assert.True(Math.Abs(expect[i] - y.Data[i]) <= tol * Math.Max(1, Math.Abs(expect[i])), $"element {i}: {y.Data[i]} vs {expect[i]}");
        }
    }

    [Fact]
    public void Embedding_FrozenQuantizedTable_DequantizesRowsAndRecordsNothing()
    {
        using var ctx = new KernelContext(1);
        var tape = new Tape(ctx);
        using var buf = NativeBuffer.FromFloats(Reference.Random(10 * 64, 1), 10, 64, DType.Q4_0);
        WeightMatrix table = buf.AsMatrix(10, 64, DType.Q4_0);
        Tensor y = tape.Embedding(table, [7, 0, 7]);
        Assert.Equal(0, tape.RecordedSteps);
        var row = new float[64];
        Dequantize.Row(row, table, 7);
        Assert.Equal(row, y.Data.AsSpan(0, 64).ToArray());
        Assert.Equal(row, y.Data.AsSpan(128, 64).ToArray());
        tape.Reset();
    }

    [Fact]
    public void ShapeOps_Random_CopyTheRightRows()
    {
        using var ctx = new KernelContext(1);
        var tape = new Tape(ctx) { Enabled = false };
        Tensor a = GradCheck.Param([2, 3], 1), b = GradCheck.Param([1, 3], 2);
        Tensor c = tape.ConcatRows([a, b]);
        Assert.Equal(a.Data.Concat(b.Data), c.Data);
        Assert.Equal(a.Data.Skip(3), tape.SliceRows(c, 1, 1).Data);
        Assert.Equal(b.Data.Concat(a.Data.Take(3)), tape.GatherRows(c, [2, 0]).Data);
        Tensor r = tape.Reshape(c, 9);
        Assert.Same(c.Data, r.Data);
        Assert.Equal([9], r.Shape);
    }
}
