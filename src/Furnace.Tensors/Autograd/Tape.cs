// The autograd tape (reverse mode, llm.c-style: each op's forward and backward side by side). An op records a
// backward step only when one of its inputs requires a gradient, so a forward over frozen weights records nothing.
// Backward(loss) seeds d(loss)/d(loss) = 1 and runs the recorded steps in reverse, accumulating into Grad buffers.
// Shapes are row-major; "(n, d)" means n rows of d floats. Batched sequences are flattened to (batch*seq, d) rows.
//
// Gradients: leaves with RequiresGrad accumulate (+=) into Grad across Backward calls until ZeroGrad; outputs of
// recorded ops (non-leaves) get a pooled Grad only during Backward, set back to null when the tape releases them.
// Frozen tensors and WeightMatrix operands never get a Grad buffer.
//
// Lifetime and pooling (the reason: fresh activation arrays re-fault memory and double step times): while Enabled,
// every op output's Data (and each saved intermediate) is rented from a pool owned by the tape; Backward and Reset
// return all of them. A returned array is reused by the first ops of the next forward, so the Data of op outputs —
// the loss value included — stays valid after Backward/Reset until the next op runs on this tape; copy what must
// live longer. Every forward with Enabled == true must therefore end in Backward or Reset (else the pool only
// grows). Arrays are pooled by exact length; a length not rented during the last two releases is dropped (varying
// sequence lengths do not pin memory). With Enabled == false nothing is recorded or pooled: outputs are fresh arrays
// owned by the caller.
// Reshape returns a view sharing its input's Data. Inputs created by the caller are never pooled or written.
// A tape serves one thread at a time (its KernelContext does).
//
// CONTRACT FILE: the signatures below are the agreed API (issue 5); the op families live in the partial files
// Tape.Linear.cs, Tape.Elementwise.cs, Tape.Norm.cs, Tape.Sequence.cs, Tape.Attention.cs, Tape.Shape.cs,
// Tape.Loss.cs; the pool and the backward driver in Tape.Pool.cs. Keep signatures stable; add overloads.
namespace Furnace.Tensors.Autograd;

public sealed partial class Tape
{
    public Tape(KernelContext ctx) => Context = ctx;

    public KernelContext Context { get; }

    /// <summary>Whether ops record backward steps (false inside an inference-only scope).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Runs the backward pass from a scalar loss (shape (1,) or ()), then forgets the recorded steps.</summary>
    public void Backward(Tensor loss) => BackwardCore(loss);

    /// <summary>Forgets recorded steps without running them (e.g. after a validation forward).</summary>
    public void Reset() => ResetCore();

    // ---- linear algebra ----

    /// <summary>x (n, in) · wᵀ, w (out, in) [+ b (out,)] -> (n, out): torch.nn.functional.linear.</summary>
    public Tensor Linear(Tensor x, Tensor w, Tensor? b = null) => LinearCore(x, w, b);

    /// <summary>As Linear with a frozen weight in any dtype (F32/F16/BF16/Q8_0/Q4_0, row-major or packed):
    /// no gradient for w, dx = dy · W (dequantized on the fly) — the QLoRA base path.</summary>
    public Tensor Linear(Tensor x, WeightMatrix w, Tensor? b = null) => LinearCore(x, w, b);

    /// <summary>a (m, k) · b (k, n) -> (m, n).</summary>
    public Tensor MatMul(Tensor a, Tensor b) => MatMulCore(a, b);

    /// <summary>x (m, n) -> (n, m).</summary>
    public Tensor Transpose(Tensor x) => TransposeCore(x);

    // ---- elementwise ----

    public Tensor Add(Tensor a, Tensor b) => AddCore(a, b);            // same shape

    /// <summary>x (n, d) + b (d,) broadcast over rows.</summary>
    public Tensor AddRow(Tensor x, Tensor b) => AddRowCore(x, b);

    public Tensor Mul(Tensor a, Tensor b) => MulCore(a, b);            // same shape

    public Tensor Scale(Tensor x, float s) => ScaleCore(x, s);

    /// <summary>x * s where s is a learnable scalar tensor of shape (1,).</summary>
    public Tensor ScaleBy(Tensor x, Tensor s) => ScaleByCore(x, s);

    public Tensor Exp(Tensor x) => ExpCore(x);

    public Tensor Silu(Tensor x) => SiluCore(x);

    /// <summary>silu(gate) ⊙ up: the SwiGLU MLP core, fused.</summary>
    public Tensor SiluMul(Tensor gate, Tensor up) => SiluMulCore(gate, up);

    public Tensor GeluTanh(Tensor x) => GeluTanhCore(x);

    public Tensor GeluErf(Tensor x) => GeluErfCore(x);

    public Tensor QuickGelu(Tensor x) => QuickGeluCore(x);                // x·σ(1.702x)

    /// <summary>Inverted dropout with probability p (identity when p == 0); rng draws are part of the seeded state.</summary>
    public Tensor Dropout(Tensor x, float p, Random rng) => DropoutCore(x, p, rng);

    // ---- normalisation ----

    /// <summary>Per row of x (n, d): x / sqrt(mean(x²) + eps) · w.</summary>
    public Tensor RmsNorm(Tensor x, Tensor w, float eps) => RmsNormCore(x, w, eps);

    /// <summary>RmsNorm with a frozen weight vector.</summary>
    public Tensor RmsNorm(Tensor x, float[] w, float eps) => RmsNormCore(x, w, eps);

    /// <summary>Per row: (x − mean) / sqrt(var + eps) · w + b (population variance, as torch).</summary>
    public Tensor LayerNorm(Tensor x, Tensor w, Tensor b, float eps) => LayerNormCore(x, w, b, eps);

    /// <summary>Row-wise x / max(‖x‖₂, 1e-12) (torch.nn.functional.normalize).</summary>
    public Tensor L2Normalize(Tensor x) => L2NormalizeCore(x);

    /// <summary>Softmax over the last dimension of x (n, d).</summary>
    public Tensor Softmax(Tensor x) => SoftmaxCore(x);

    // ---- sequence ops ----

    /// <summary>Rows of a table (vocab, d) -> (ids.Length, d); the gradient scatters back into the table.</summary>
    public Tensor Embedding(Tensor table, ReadOnlySpan<int> ids) => EmbeddingCore(table, ids);

    /// <summary>Rows of a frozen table in any dtype -> (ids.Length, d) with no gradient.</summary>
    public Tensor Embedding(WeightMatrix table, ReadOnlySpan<int> ids) => EmbeddingCore(table, ids);

    /// <summary>Rotary embedding of x (batch*seq, heads*headDim) at positions[row] (no parameters).</summary>
    public Tensor Rope(Tensor x, ReadOnlySpan<int> positions, int heads, int headDim, RopeTable table, RopeStyle style) =>
        RopeCore(x, positions, heads, headDim, table, style);

    /// <summary>
    /// Scaled dot-product attention per sequence: q (batch*seq, heads*hd), k and v (batch*seq, kvHeads*hd) -> (batch*seq,
    /// heads*hd), grouped-query when kvHeads &lt; heads, causal or bidirectional, scale 1/sqrt(hd). Fused backward.
    /// </summary>
    public Tensor Attention(Tensor q, Tensor k, Tensor v, int batch, int seq, int heads, int kvHeads, bool causal) =>
        AttentionCore(q, k, v, batch, seq, heads, kvHeads, causal);

    // ---- shape ops ----

    public Tensor Reshape(Tensor x, params int[] shape) => ReshapeCore(x, shape);

    /// <summary>Concatenation along dim 0 (rows) of tensors with equal trailing shape.</summary>
    public Tensor ConcatRows(IReadOnlyList<Tensor> xs) => ConcatRowsCore(xs);

    /// <summary>Rows [start, start+count) of x.</summary>
    public Tensor SliceRows(Tensor x, int start, int count) => SliceRowsCore(x, start, count);

    /// <summary>Rows x[rows[i]] -> (rows.Length, d) (e.g. the CLS or EOS token of each sequence).</summary>
    public Tensor GatherRows(Tensor x, ReadOnlySpan<int> rows) => GatherRowsCore(x, rows);

    // ---- reductions and losses ----

    public Tensor Sum(Tensor x) => SumCore(x);                       // -> (1,)

    public Tensor Mean(Tensor x) => MeanCore(x);                      // -> (1,)

    /// <summary>
    /// Mean next-token cross-entropy over rows whose target is not ignoreIndex: logits (n, vocab), targets (n,).
    /// torch.nn.functional.cross_entropy(reduction="mean", ignore_index=ignoreIndex); 0 when every row is ignored.
    /// </summary>
    public Tensor CrossEntropy(Tensor logits, ReadOnlySpan<int> targets, int ignoreIndex = -100) =>
        CrossEntropyCore(logits, targets, ignoreIndex);
}
