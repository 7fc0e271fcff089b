// Finite-difference gradient checks (GradCheck) for every op of the tape, on small seeded inputs. Each case states its
// step h and tolerance (max |grad − fd| / max |fd|): Tol = 5e-4 for nonlinear ops, Exact = 2e-5 for ops linear in
// their input (only float rounding of the forward separates FD from the gradient there).
using Furnace.Tensors.Autograd;

namespace Furnace.Tensors.Tests.Autograd;

public sealed class GradientTests
{
    private const double H = 1e-2, Tol = 5e-4, Exact = 2e-5; // measured worst: 6e-5 (CrossEntropy), ≤2e-6 for linear ops

    private static readonly RopeTable RopeTab = new(8, 16, 10000f);

    public static TheoryData<string> Ops() =>
    [
        "Linear", "LinearNoBias", "LinearFrozenWeight", "MatMul", "Transpose", "Add", "AddRow", "Mul", "MulSelf", "Scale",
        "ScaleBy", "Exp", "Silu", "SiluMul", "GeluTanh", "GeluErf", "QuickGelu", "Dropout", "RmsNorm", "RmsNormFrozen",
        "LayerNorm", "L2Normalize", "Softmax", "Embedding", "RopeInterleaved", "RopeHalfSplit", "RopePartial",
        "AttentionCausal", "AttentionCausalGqa", "AttentionBidirectional", "Reshape", "ConcatRows", "SliceRows",
        "GatherRows", "Sum", "Mean", "CrossEntropy", "CrossEntropyIgnore", "Chain", "ActivationInputs",
    ];

    [Theory]
    [MemberData(nameof(Ops))]
    public void Backward_Op_MatchesCentralDifferences(string op)
    {
        (Func<Tape, Tensor> f, Tensor[] inputs, double h, double tol) = Case(op);
        GradCheck.Run(f, inputs, h, tol);
    }

    private static (Func<Tape, Tensor>, Tensor[], double, double) Case(string op)
    {
        Tensor P(int seed, params int[] shape) => GradCheck.Param(shape, seed);
        switch (op)
        {
            case "Linear":
            {
                Tensor x = P(1, 5, 7), w = P(2, 6, 7), b = P(3, 6);
                return (t => t.Linear(x, w, b), [x, w, b], H, Tol);
            }
            case "LinearNoBias":
            {
                Tensor x = P(1, 2, 3, 7), w = P(2, 6, 7); // rank-3 x flattens to rows
                return (t => t.Linear(x, w), [x, w], H, Tol);
            }
            case "LinearFrozenWeight": // F32 here (exact); the other dtypes round x in the forward: see LinearWeightMatrixTests
            {
                Tensor x = P(1, 5, 7), b = P(3, 6);
                var buf = NativeBuffer.FromFloats(Reference.Random(6 * 7, 4), 6, 7, DType.F32);
                WeightMatrix w = buf.AsMatrix(6, 7, DType.F32);
                return (t => { GC.KeepAlive(buf); return t.Linear(x, w, b); }, [x, b], H, Tol);
            }
            case "MatMul":
            {
                Tensor a = P(1, 4, 6), b = P(2, 6, 5);
                return (t => t.MatMul(a, b), [a, b], H, Tol);
            }
            case "Transpose":
            {
                Tensor x = P(1, 4, 6);
                return (t => t.Transpose(x), [x], H, Exact);
            }
            case "Add":
            {
                Tensor a = P(1, 3, 5), b = P(2, 3, 5);
                return (t => t.Add(a, b), [a, b], H, Exact);
            }
            case "AddRow":
            {
                Tensor x = P(1, 4, 5), b = P(2, 5);
                return (t => t.AddRow(x, b), [x, b], H, Exact);
            }
            case "Mul":
            {
                Tensor a = P(1, 3, 5), b = P(2, 3, 5);
                return (t => t.Mul(a, b), [a, b], H, 1e-4);
            }
            case "MulSelf": // the same tensor on both sides: both contributions add up
            {
                Tensor a = P(1, 3, 5);
                return (t => t.Mul(a, a), [a], H, 1e-4);
            }
            case "Scale":
            {
                Tensor x = P(1, 3, 5);
                return (t => t.Scale(x, -1.7f), [x], H, Exact);
            }
            case "ScaleBy":
            {
                Tensor x = P(1, 3, 5), s = P(2, 1);
                return (t => t.ScaleBy(x, s), [x, s], H, 1e-4);
            }
            case "Exp":
            {
                Tensor x = P(1, 3, 5);
                return (t => t.Exp(x), [x], H, Tol);
            }
            case "Silu":
            {
                Tensor x = GradCheck.Param([3, 37], 1, 4f); // 37: a Vector512 body and a scalar tail
                return (t => t.Silu(x), [x], H, Tol);
            }
            case "SiluMul":
            {
                Tensor g = GradCheck.Param([3, 37], 1, 4f), u = P(2, 3, 37);
                return (t => t.SiluMul(g, u), [g, u], H, Tol);
            }
            case "GeluTanh":
            {
                Tensor x = GradCheck.Param([3, 11], 1, 4f);
                return (t => t.GeluTanh(x), [x], H, Tol);
            }
            case "GeluErf":
            {
                Tensor x = GradCheck.Param([3, 11], 1, 4f);
                return (t => t.GeluErf(x), [x], H, Tol);
            }
            case "QuickGelu":
            {
                Tensor x = GradCheck.Param([3, 11], 1, 4f);
                return (t => t.QuickGelu(x), [x], H, Tol);
            }
            case "Dropout": // the same seed on every evaluation, so the mask is fixed
            {
                Tensor x = P(1, 4, 9);
                return (t => t.Dropout(x, 0.3f, new Random(9)), [x], H, Exact);
            }
            case "RmsNorm": // 19: a Vector512 body and a scalar tail
            {
                Tensor x = P(1, 4, 19), w = P(2, 19);
                return (t => t.RmsNorm(x, w, 1e-5f), [x, w], H, Tol);
            }
            case "RmsNormFrozen":
            {
                Tensor x = P(1, 4, 19);
                float[] w = Reference.Random(19, 2);
                return (t => t.RmsNorm(x, w, 1e-5f), [x], H, Tol);
            }
            case "LayerNorm":
            {
                Tensor x = P(1, 4, 19), w = P(2, 19), b = P(3, 19);
                return (t => t.LayerNorm(x, w, b, 1e-5f), [x, w, b], H, Tol);
            }
            case "L2Normalize":
            {
                Tensor x = P(1, 4, 9);
                return (t => t.L2Normalize(x), [x], H, Tol);
            }
            case "Softmax":
            {
                Tensor x = GradCheck.Param([3, 21], 1, 3f);
                return (t => t.Softmax(x), [x], H, Tol);
            }
            case "Embedding": // id 2 appears twice: its gradient rows add up
            {
                Tensor table = P(1, 6, 5);
                return (t => t.Embedding(table, [2, 0, 5, 2]), [table], H, Exact);
            }
            case "RopeInterleaved":
            case "RopeHalfSplit":
            {
                Tensor x = P(1, 3, 16); // 3 rows, 2 heads of 8
                RopeStyle style = op == "RopeInterleaved" ? RopeStyle.Interleaved : RopeStyle.HalfSplit;
                return (t => t.Rope(x, [0, 5, 11], 2, 8, RopeTab, style), [x], H, 1e-4);
            }
            case "RopePartial": // rotary dims 8 of a head of 12: the last 4 dims pass through
            {
                Tensor x = P(1, 3, 24);
                return (t => t.Rope(x, [3, 1, 7], 2, 12, RopeTab, RopeStyle.HalfSplit), [x], H, 1e-4);
            }
            case "AttentionCausal":
            case "AttentionBidirectional":
            {
                Tensor q = P(1, 2 * 5, 2 * 4), k = P(2, 2 * 5, 2 * 4), v = P(3, 2 * 5, 2 * 4); // batch 2, seq 5, 2 heads of 4
                bool causal = op == "AttentionCausal";
                return (t => t.Attention(q, k, v, 2, 5, 2, 2, causal), [q, k, v], H, Tol);
            }
            case "AttentionCausalGqa":
            {
                Tensor q = P(1, 2 * 5, 4 * 4), k = P(2, 2 * 5, 2 * 4), v = P(3, 2 * 5, 2 * 4); // 4 query heads on 2 kv heads
                return (t => t.Attention(q, k, v, 2, 5, 4, 2, causal: true), [q, k, v], H, Tol);
            }
            case "Reshape":
            {
                Tensor x = P(1, 4, 6);
                return (t => t.Softmax(t.Reshape(x, 3, 8)), [x], H, Tol);
            }
            case "ConcatRows":
            {
                Tensor a = P(1, 2, 5), b = P(2, 3, 5);
                return (t => t.ConcatRows([a, b, a]), [a, b], H, Exact);
            }
            case "SliceRows":
            {
                Tensor x = P(1, 6, 5);
                return (t => t.SliceRows(x, 2, 3), [x], H, Exact);
            }
            case "GatherRows":
            {
                Tensor x = P(1, 6, 5);
                return (t => t.GatherRows(x, [5, 0, 5]), [x], H, Exact);
            }
            case "Sum":
            {
                Tensor x = P(1, 4, 5);
                return (t => t.Sum(x), [x], H, Exact);
            }
            case "Mean":
            {
                Tensor x = P(1, 4, 5);
                return (t => t.Mean(x), [x], H, 1e-4);
            }
            case "CrossEntropy":
            {
                Tensor z = GradCheck.Param([5, 19], 1, 3f);
                return (t => t.CrossEntropy(z, [3, 0, 18, 7, 7]), [z], H, Tol);
            }
            case "CrossEntropyIgnore":
            {
                Tensor z = GradCheck.Param([5, 19], 1, 3f);
                return (t => t.CrossEntropy(z, [3, -100, 18, -100, 7]), [z], H, Tol);
            }
            case "Chain": // a tensor used twice through different paths: Linear -> Silu, added to itself
            {
                Tensor x = P(1, 4, 6), w = P(2, 6, 6);
                return (t =>
                {
                    Tensor y = t.Linear(x, w);
                    return t.Add(t.Silu(y), t.Mul(y, x));
                }, [x, w], H, Tol);
            }
            case "ActivationInputs": // non-leaf inputs whose gradient the first GEMM writes rather than adds to, used twice
            {
                Tensor x = P(1, 5, 7), w = P(2, 6, 7), a = P(3, 4, 6), b = P(4, 6, 5);
                var buf = NativeBuffer.FromFloats(Reference.Random(6 * 7, 5), 6, 7, DType.F32);
                WeightMatrix frozen = buf.AsMatrix(6, 7, DType.F32);
                return (t =>
                {
                    GC.KeepAlive(buf);
                    Tensor h = t.Silu(x);
                    Tensor y = t.Add(t.Linear(h, frozen), t.Linear(h, w)); // frozen first: its streamed backward runs last
                    Tensor s = t.Silu(a);
                    Tensor m1 = t.MatMul(s, b), m2 = t.MatMul(t.Transpose(b), t.Transpose(s)); // (4, 5) and its transpose
                    return t.ConcatRows([t.Reshape(y, 30, 1), t.Reshape(m1, 20, 1), t.Reshape(m2, 20, 1)]);
                }, [x, w, a, b], H, Tol);
            }
            default:
                throw new ArgumentException(op);
        }
    }
}
