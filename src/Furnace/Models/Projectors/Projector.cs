// The bridge from image features to the LLM's embedding space (LLaVA §4.1; HF LlavaMultiModalProjector):
//   linear:      y = W1 x + b1
//   mlp2x_gelu:  y = W2 gelu(W1 x + b1) + b2      (projector_hidden_act "gelu" = erf GELU)
// Weights load from `multi_modal_projector.linear_1.*` / `linear_2.*` (HF LLaVA) or `mm_projector.0.*` / `.2.*`
// (original LLaVA checkpoints).
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.Projectors;

public enum ProjectorKind
{
    Linear,
    Mlp2xGelu,
}

public sealed class Projector
{
    private readonly WeightMatrix _w1;  // (hidden, inDim)
    private readonly float[]? _b1;
    private readonly WeightMatrix? _w2; // (outDim, hidden)
    private readonly float[]? _b2;
    private float[] _hidden = [];

    private Projector(ProjectorKind kind, WeightMatrix w1, float[]? b1, WeightMatrix? w2, float[]? b2)
    {
        Kind = kind;
        _w1 = w1;
        _b1 = b1;
        _w2 = w2;
        _b2 = b2;
    }

    public ProjectorKind Kind { get; }

    public int InDim => _w1.Cols;

    public int OutDim => _w2?.Rows ?? _w1.Rows;

    /// <summary>First layer weight (hidden, in) as stored (ProjectorTrainable copies it).</summary>
    public WeightMatrix W1 => _w1;

    public float[]? B1 => _b1;

    /// <summary>Second layer weight (out, hidden) of the MLP; null for a linear projector.</summary>
    public WeightMatrix? W2 => _w2;

    public float[]? B2 => _b2;

    /// <summary>Loads from a prefix holding linear_1 (and linear_2 for the MLP), or mm_projector's 0/2.</summary>
    public static Projector Load(WeightLoader vb, ProjectorKind kind, int inDim, int outDim)
    {
        (string first, string second) = vb.Contains("linear_1.weight") ? ("linear_1", "linear_2") : ("0", "2");
        return Load(vb, kind, inDim, outDim, first, second);
    }

    /// <summary>
    /// Loads from named layers under vb: first (null: weight/bias at vb itself, as DeepSeek-VL's projector_type
    /// "linear" saves aligner.layers.weight) and, for the MLP, second (DeepSeek-VL's mlp_gelu: "0" and "2").
    /// </summary>
    public static Projector Load(WeightLoader vb, ProjectorKind kind, int inDim, int outDim, string? first, string? second = null)
    {
        var l1 = first == null ? vb : vb.Prefix(first);
        if (kind == ProjectorKind.Linear)
            return new Projector(kind, l1.Matrix("weight", outDim, inDim), l1.OptionalVector("bias", outDim), null, null);
        var l2 = vb.Prefix(second ?? throw new ArgumentNullException(nameof(second), "an MLP projector needs its second layer's name"));
        return new Projector(kind, l1.Matrix("weight", outDim, inDim), l1.OptionalVector("bias", outDim),
            l2.Matrix("weight", outDim, outDim), l2.OptionalVector("bias", outDim));
    }

    public static ProjectorKind ParseKind(string name) => name switch
    {
        "linear" => ProjectorKind.Linear,
        "mlp2x_gelu" or "gelu" => ProjectorKind.Mlp2xGelu,
        _ => throw new FurnaceException($"projector type '{name}' is not supported (linear, mlp2x_gelu)"),
    };

    // y (n, OutDim) = projector(x (n, InDim))
    public void Forward(Span<float> y, ReadOnlySpan<float> x, int n, KernelContext ctx)
    {
        if (x.Length < n * InDim) throw new ArgumentException($"x holds {x.Length} floats, need {n}x{InDim}");
        if (y.Length < n * OutDim) throw new ArgumentException($"y holds {y.Length} floats, need {n}x{OutDim}");
        if (_w2 is not { } w2)
        {
            MatMul.Forward(y, x, n, _w1, ctx);
            AddBias(y, _b1, n);
            return;
        }
        if (_hidden.Length < n * _w1.Rows) _hidden = new float[n * _w1.Rows];
        Span<float> h = _hidden.AsSpan(0, n * _w1.Rows);
        MatMul.Forward(h, x, n, _w1, ctx);
        AddBias(h, _b1, n);
        Ops.GeluErf(h);
        MatMul.Forward(y, h, n, w2, ctx);
        AddBias(y, _b2, n);
    }

    private static void AddBias(Span<float> y, float[]? b, int n)
    {
        if (b == null) return;
        for (int i = 0; i < n; i++) Ops.Add(y.Slice(i * b.Length, b.Length), b);
    }
}
