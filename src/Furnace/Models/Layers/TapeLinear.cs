// One linear layer y = W x + b as the training graph sees it (torch.nn.Linear with PEFT's LoRA wrapper): the weight
// is either frozen — a WeightMatrix straight from the checkpoint in any dtype, no gradient, no copy — or a float32
// parameter; the bias (Qwen2 q/k/v, projectors) is a Tensor that may or may not require a gradient; an optional
// LoRA update adds scale · B A x on top of a frozen base.
using Furnace.Models.Lora;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;

namespace Furnace.Models.Layers;

public sealed class TapeLinear
{
    private readonly WeightMatrix _frozen;

    private TapeLinear(string path, WeightMatrix frozen, Tensor? weight, Tensor? bias, LoraLinear? lora)
    {
        ModulePath = path;
        _frozen = frozen;
        Weight = weight;
        Bias = bias;
        Lora = lora;
    }

    /// <summary>A frozen checkpoint weight (out, in), optionally with a LoRA update.</summary>
    public static TapeLinear Frozen(string path, WeightMatrix w, Tensor? bias = null, LoraLinear? lora = null)
    {
        if (lora != null && (lora.InFeatures != w.Cols || lora.OutFeatures != w.Rows))
            throw new ArgumentException($"{path}: LoRA ({lora.OutFeatures}, {lora.InFeatures}) does not fit the weight ({w.Rows}, {w.Cols})");
        return new TapeLinear(path, w, null, bias, lora);
    }

    /// <summary>A float weight tensor (out, in) (trainable when it requires a gradient).</summary>
    public static TapeLinear Dense(string path, Tensor weight, Tensor? bias = null)
    {
        if (weight.Rank != 2) throw new ArgumentException($"{path}: weight {weight} is not a matrix");
        return new TapeLinear(path, default, weight, bias, null);
    }

    /// <summary>The module path ("language_model.model.layers.0.self_attn.q_proj"); "{path}.weight" is the checkpoint key.</summary>
    public string ModulePath { get; }

    /// <summary>The float weight, or null when the weight is the frozen checkpoint matrix.</summary>
    public Tensor? Weight { get; }

    public Tensor? Bias { get; }

    public LoraLinear? Lora { get; }

    public bool IsFrozen => Weight == null;

    /// <summary>The frozen checkpoint matrix (only when IsFrozen).</summary>
    public WeightMatrix FrozenWeight => IsFrozen ? _frozen : throw new InvalidOperationException($"{ModulePath} has a float weight");

    public int InFeatures => Weight?.Shape[1] ?? _frozen.Cols;

    public int OutFeatures => Weight?.Shape[0] ?? _frozen.Rows;

    /// <summary>x (n, in) -> (n, out).</summary>
    public Tensor Forward(Tape tape, Tensor x, Random? dropoutRng = null)
    {
        Tensor y = Weight != null ? tape.Linear(x, Weight, Bias) : tape.Linear(x, _frozen, Bias);
        return Lora == null ? y : tape.Add(y, Lora.Forward(tape, x, dropoutRng));
    }

    /// <summary>The effective weight (out, in) as float: dequantized base (or the float weight) plus the merged LoRA update.</summary>
    public float[] EffectiveWeight()
    {
        int rows = OutFeatures, cols = InFeatures;
        float[] w;
        if (Weight != null) w = (float[])Weight.Data.Clone();
        else
        {
            w = new float[(long)rows * cols];
            for (int r = 0; r < rows; r++) Dequantize.Row(w.AsSpan(r * cols, cols), _frozen, r);
        }
        Lora?.MergeInto(w);
        return w;
    }

    /// <summary>A frozen matrix dequantized to float (out, in), for copying checkpoint weights into parameters.</summary>
    public static float[] ToFloats(WeightMatrix m)
    {
        var w = new float[(long)m.Rows * m.Cols];
        for (int r = 0; r < m.Rows; r++) Dequantize.Row(w.AsSpan(r * m.Cols, m.Cols), m, r);
        return w;
    }
}
