// The low-rank update of one adapted linear layer (Hu et al. 2021, "LoRA"; PEFT tuners/lora/layer.py Linear):
//   y = base(x) + scale · B (A (dropout(x)))      A (r, in), B (out, r), scale = alpha / r (alpha / √r with rsLoRA)
// A starts kaiming-uniform(a = √5) as PEFT's reset_lora_parameters (= U(-1/√in, 1/√in)), B starts at zero, so an
// untrained adapter leaves the model unchanged (LoraModuleWeights.Initial). This type holds only the update on the tape;
// TapeLinear adds it to the base.
using Furnace.Tensors.Autograd;

namespace Furnace.Models.Lora;

public sealed class LoraLinear
{
    public LoraLinear(string modulePath, Tensor a, Tensor b, float scale, float dropout)
    {
        if (a.Rank != 2 || b.Rank != 2 || b.Shape[1] != a.Shape[0])
            throw new ArgumentException($"{modulePath}: LoRA A {a} and B {b} do not chain (A (r, in), B (out, r))");
        if (dropout is < 0 or >= 1) throw new ArgumentException($"{modulePath}: LoRA dropout {dropout} is outside [0, 1)");
        ModulePath = modulePath;
        A = a;
        B = b;
        Scale = scale;
        Dropout = dropout;
    }

    /// <summary>The adapted module, e.g. "language_model.model.layers.0.self_attn.q_proj".</summary>
    public string ModulePath { get; }

    /// <summary>(r, in).</summary>
    public Tensor A { get; }

    /// <summary>(out, r).</summary>
    public Tensor B { get; }

    public float Scale { get; }

    public float Dropout { get; }

    public int Rank => A.Shape[0];

    public int InFeatures => A.Shape[1];

    public int OutFeatures => B.Shape[0];

    /// <summary>
    /// The trainable view of an adapter's factors for one module: A and B are parameters over the very arrays of
    /// <paramref name="w"/> (no copy), so training updates the LoraAdapter in place and LoraAdapter.Save writes them.
    /// </summary>
    public static LoraLinear Over(string modulePath, LoraModuleWeights w, LoraConfig config) =>
        new(modulePath,
            Tensor.Parameter(LoraAdapter.KeyA(modulePath), [w.Rank, w.InFeatures], w.A),
            Tensor.Parameter(LoraAdapter.KeyB(modulePath), [w.OutFeatures, w.Rank], w.B),
            config.Scale, config.Dropout);

    /// <summary>scale · B (A (dropout(x))): x (n, in) -> (n, out).</summary>
    public Tensor Forward(Tape tape, Tensor x, Random? rng)
    {
        Tensor h = Dropout > 0 && rng != null ? tape.Dropout(x, Dropout, rng) : x;
        return tape.Scale(tape.Linear(tape.Linear(h, A), B), Scale);
    }

    /// <summary>Adds scale · B·A (out, in) into w (row-major (out, in)): the merged weight of an exported model.</summary>
    public void MergeInto(Span<float> w)
    {
        int r = Rank, n = InFeatures, m = OutFeatures;
        if (w.Length != m * n) throw new ArgumentException($"{ModulePath}: merge target holds {w.Length} floats, need {m}x{n}");
        float[] a = A.Data, b = B.Data;
        for (int o = 0; o < m; o++)
        {
            Span<float> row = w.Slice(o * n, n);
            for (int k = 0; k < r; k++)
            {
                float s = Scale * b[o * r + k];
                if (s == 0) continue;
                ReadOnlySpan<float> ak = a.AsSpan(k * n, n);
                for (int i = 0; i < n; i++) row[i] += s * ak[i];
            }
        }
    }
}
