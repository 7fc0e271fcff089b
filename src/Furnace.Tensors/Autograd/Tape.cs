// The autograd tape (reverse mode, llm.c-style: each op's forward and backward side by side). An op records a
// backward step only when one of its inputs requires a gradient, so a forward over frozen weights records nothing.
// Backward(loss) seeds d(loss)/d(loss) = 1 and runs the recorded steps in reverse, accumulating into Grad buffers.
// Shapes are row-major; "(n, d)" means n rows of d floats. Batched sequences are flattened to (batch*seq, d) rows.
//
// CONTRACT FILE: the signatures below are the agreed API; bodies that throw NotImplementedException are filled in
// by the autograd work (issue 5). Keep signatures stable; add overloads rather than changing them.
namespace Furnace.Tensors.Autograd;

public sealed partial class Tape
{
    public Tape(KernelContext ctx) => Context = ctx;

    public KernelContext Context { get; }

    /// <summary>Whether ops record backward steps (false inside an inference-only scope).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Runs the backward pass from a scalar loss (shape (1,) or ()), then forgets the recorded steps.</summary>
    public void Backward(Tensor loss) => throw new NotImplementedException();

    /// <summary>Forgets recorded steps without running them (e.g. after a validation forward).</summary>
    public void Reset() => throw new NotImplementedException();

    // ---- linear algebra ----

    /// <summary>x (n, in) · wᵀ, w (out, in) [+ b (out,)] -> (n, out): torch.nn.functional.linear.</summary>
    public Tensor Linear(Tensor x, Tensor w, Tensor? b = null) => throw new NotImplementedException();

    /// <summary>As Linear with a frozen weight in any dtype (F32/F16/BF16/Q8_0/Q4_0, row-major or packed):
    /// no gradient for w, dx = dy · W (dequantized on the fly) — the QLoRA base path.</summary>
    public Tensor Linear(Tensor x, WeightMatrix w, Tensor? b = null) => throw new NotImplementedException();

    /// <summary>a (m, k) · b (k, n) -> (m, n).</summary>
    public Tensor MatMul(Tensor a, Tensor b) => throw new NotImplementedException();

    /// <summary>x (m, n) -> (n, m).</summary>
    public Tensor Transpose(Tensor x) => throw new NotImplementedException();

    // ---- elementwise ----

    public Tensor Add(Tensor a, Tensor b) => throw new NotImplementedException();            // same shape

    /// <summary>x (n, d) + b (d,) broadcast over rows.</summary>
    public Tensor AddRow(Tensor x, Tensor b) => throw new NotImplementedException();

    public Tensor Mul(Tensor a, Tensor b) => throw new NotImplementedException();            // same shape

    public Tensor Scale(Tensor x, float s) => throw new NotImplementedException();

    /// <summary>x * s where s is a learnable scalar tensor of shape (1,).</summary>
    public Tensor ScaleBy(Tensor x, Tensor s) => throw new NotImplementedException();

    public Tensor Exp(Tensor x) => throw new NotImplementedException();

    public Tensor Silu(Tensor x) => throw new NotImplementedException();

    /// <summary>silu(gate) ⊙ up: the SwiGLU MLP core, fused.</summary>
    public Tensor SiluMul(Tensor gate, Tensor up) => throw new NotImplementedException();

    public Tensor GeluTanh(Tensor x) => throw new NotImplementedException();

    public Tensor GeluErf(Tensor x) => throw new NotImplementedException();

    public Tensor QuickGelu(Tensor x) => throw new NotImplementedException();                // x·σ(1.702x)

    /// <summary>Inverted dropout with probability p (identity when p == 0); rng draws are part of the seeded state.</summary>
    public Tensor Dropout(Tensor x, float p, Random rng) => throw new NotImplementedException();

    // ---- normalisation ----

    /// <summary>Per row of x (n, d): x / sqrt(mean(x²) + eps) · w.</summary>
    public Tensor RmsNorm(Tensor x, Tensor w, float eps) => throw new NotImplementedException();

    /// <summary>RmsNorm with a frozen weight vector.</summary>
    public Tensor RmsNorm(Tensor x, float[] w, float eps) => throw new NotImplementedException();

    /// <summary>Per row: (x − mean) / sqrt(var + eps) · w + b (population variance, as torch).</summary>
    public Tensor LayerNorm(Tensor x, Tensor w, Tensor b, float eps) => throw new NotImplementedException();

    /// <summary>Row-wise x / max(‖x‖₂, 1e-12) (torch.nn.functional.normalize).</summary>
    public Tensor L2Normalize(Tensor x) => throw new NotImplementedException();

    /// <summary>Softmax over the last dimension of x (n, d).</summary>
    public Tensor Softmax(Tensor x) => throw new NotImplementedException();

    // ---- sequence ops ----

    /// <summary>Rows of a table (vocab, d) -> (ids.Length, d); the gradient scatters back into the table.</summary>
    public Tensor Embedding(Tensor table, ReadOnlySpan<int> ids) => throw new NotImplementedException();

    /// <summary>Rows of a frozen table in any dtype -> (ids.Length, d) with no gradient.</summary>
    public Tensor Embedding(WeightMatrix table, ReadOnlySpan<int> ids) => throw new NotImplementedException();

    /// <summary>Rotary embedding of x (batch*seq, heads*headDim) at positions[row] (no parameters).</summary>
    public Tensor Rope(Tensor x, ReadOnlySpan<int> positions, int heads, int headDim, RopeTable table, RopeStyle style) =>
        throw new NotImplementedException();

    /// <summary>
    /// Scaled dot-product attention per sequence: q (batch*seq, heads*hd), k and v (batch*seq, kvHeads*hd) -> (batch*seq,
    /// heads*hd), grouped-query when kvHeads &lt; heads, causal or bidirectional, scale 1/sqrt(hd). Fused backward.
    /// </summary>
    public Tensor Attention(Tensor q, Tensor k, Tensor v, int batch, int seq, int heads, int kvHeads, bool causal) =>
        throw new NotImplementedException();

    // ---- shape ops ----

    public Tensor Reshape(Tensor x, params int[] shape) => throw new NotImplementedException();

    /// <summary>Concatenation along dim 0 (rows) of tensors with equal trailing shape.</summary>
    public Tensor ConcatRows(IReadOnlyList<Tensor> xs) => throw new NotImplementedException();

    /// <summary>Rows [start, start+count) of x.</summary>
    public Tensor SliceRows(Tensor x, int start, int count) => throw new NotImplementedException();

    /// <summary>Rows x[rows[i]] -> (rows.Length, d) (e.g. the CLS or EOS token of each sequence).</summary>
    public Tensor GatherRows(Tensor x, ReadOnlySpan<int> rows) => throw new NotImplementedException();

    // ---- reductions and losses ----

    public Tensor Sum(Tensor x) => throw new NotImplementedException();                       // -> (1,)

    public Tensor Mean(Tensor x) => throw new NotImplementedException();                      // -> (1,)

    /// <summary>
    /// Mean next-token cross-entropy over rows whose target is not ignoreIndex: logits (n, vocab), targets (n,).
    /// torch.nn.functional.cross_entropy(reduction="mean", ignore_index=ignoreIndex); 0 when every row is ignored.
    /// </summary>
    public Tensor CrossEntropy(Tensor logits, ReadOnlySpan<int> targets, int ignoreIndex = -100) => throw new NotImplementedException();
}
