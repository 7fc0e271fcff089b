// A float32 tensor of the autograd tape (row-major, dense, managed storage): a leaf parameter, an input, or the output
// of a recorded op. Only tensors that require a gradient get a Grad buffer (allocated on first backward), so frozen
// weights — and frozen quantized WeightMatrix operands, which are not Tensors at all — cost no gradient memory.
namespace Furnace.Tensors.Autograd;

public sealed partial class Tensor
{
    public Tensor(int[] shape, float[] data, bool requiresGrad = false, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        long n = 1;
        foreach (int d in shape)
        {
            if (d <= 0) throw new ArgumentException($"tensor shape ({string.Join(", ", shape)}) must be positive");
            n *= d;
        }
        if (n != data.Length) throw new ArgumentException($"tensor shape ({string.Join(", ", shape)}) needs {n} values, got {data.Length}");
        Shape = shape;
        Data = data;
        RequiresGrad = requiresGrad;
        Name = name;
    }

    public int[] Shape { get; private set; }

    public float[] Data { get; }

    /// <summary>d(loss)/d(this), same length as Data; null until a backward pass reaches this tensor.</summary>
    public float[]? Grad { get; internal set; }

    public bool RequiresGrad { get; }

    /// <summary>Checkpoint key of a parameter (e.g. "multi_modal_projector.linear_1.weight"); null for activations.</summary>
    public string? Name { get; }

    public int Length => Data.Length;

    public int Rank => Shape.Length;

    public static Tensor Zeros(params int[] shape)
    {
        long n = 1;
        foreach (int d in shape) n *= d;
        return new Tensor(shape, new float[n]);
    }

    /// <summary>A trainable leaf (requires a gradient).</summary>
    public static Tensor Parameter(string name, int[] shape, float[] data) => new(shape, data, requiresGrad: true, name);

    /// <summary>The gradient buffer, allocated (zeroed) if missing.</summary>
    public float[] EnsureGrad() => Grad ??= new float[Data.Length];

    public void ZeroGrad()
    {
        if (Grad != null) Array.Clear(Grad);
    }

    public override string ToString() => $"{Name ?? "tensor"}({string.Join(", ", Shape)})";
}
