// The projector on the autograd tape (LLaVA §4.1; HF LlavaMultiModalProjector), the training twin of Projector:
//   linear:      y = W1 x + b1
//   mlp2x_gelu:  y = W2 gelu(W1 x + b1) + b2        (erf GELU)
// Parameters are float32 tensors named by the HF LLaVA keys ("multi_modal_projector.linear_1.weight", ...), either
// loaded from a checkpoint or freshly initialised as torch.nn.Linear does (weight and bias ~ U(-1/√in, 1/√in)).
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models.Layers;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;

namespace Furnace.Models.Projectors;

public sealed class ProjectorTrainable
{
    public const string DefaultPrefix = "multi_modal_projector.";

    public ProjectorTrainable(ProjectorKind kind, Tensor w1, Tensor? b1, Tensor? w2, Tensor? b2)
    {
        if (w1.Rank != 2) throw new ArgumentException($"projector weight {w1} is not a matrix");
        if ((kind == ProjectorKind.Mlp2xGelu) != (w2 != null)) throw new ArgumentException($"a {kind} projector {(w2 == null ? "needs" : "has no")} second layer");
        if (w2 != null && (w2.Rank != 2 || w2.Shape[1] != w1.Shape[0])) throw new ArgumentException($"projector layers {w1} and {w2} do not chain");
        Kind = kind;
        W1 = w1;
        B1 = b1;
        W2 = w2;
        B2 = b2;
    }

    public ProjectorKind Kind { get; }

    public Tensor W1 { get; }   // (hidden, in)

    public Tensor? B1 { get; }  // (hidden,)

    public Tensor? W2 { get; }  // (out, hidden)

    public Tensor? B2 { get; }  // (out,)

    public int InDim => W1.Shape[1];

    public int OutDim => W2?.Shape[0] ?? W1.Shape[0];

    public IReadOnlyList<Tensor> Parameters => new[] { W1, B1, W2, B2 }.OfType<Tensor>().ToList();

    /// <summary>A fresh projector as torch.nn.Linear initialises one (seeded by (seed, key)); trainable.</summary>
    public static ProjectorTrainable Initial(ProjectorKind kind, int inDim, int outDim, int seed, string prefix = DefaultPrefix)
    {
        Tensor Uniform(string key, int[] shape, int fanIn) =>
            Tensor.Parameter(key, shape, SeededUniform.Values(shape.Aggregate(1L, (a, b) => a * b), seed, key, 0f, 1f / MathF.Sqrt(fanIn)));
        var w1 = Uniform(prefix + "linear_1.weight", [outDim, inDim], inDim);
        var b1 = Uniform(prefix + "linear_1.bias", [outDim], inDim);
        if (kind == ProjectorKind.Linear) return new ProjectorTrainable(kind, w1, b1, null, null);
        return new ProjectorTrainable(kind, w1, b1, Uniform(prefix + "linear_2.weight", [outDim, outDim], outDim), Uniform(prefix + "linear_2.bias", [outDim], outDim));
    }

    /// <summary>The projector stored under vb (linear_1/linear_2, or mm_projector's 0/2) as float parameters, named with HF LLaVA keys.</summary>
    public static ProjectorTrainable Load(WeightLoader vb, ProjectorKind kind, int inDim, int outDim, bool trainable = true, string prefix = DefaultPrefix)
    {
        (string first, string second) = vb.Contains("linear_1.weight") ? ("linear_1", "linear_2") : ("0", "2");
        Tensor T(string src, string key, params int[] shape) => new(shape, vb.Floats(src, shape.Select(d => (long)d).ToArray()), trainable, prefix + key);
        Tensor? OptT(string src, string key, int n) => vb.Contains(src) ? T(src, key, n) : null;
        var w1 = T(first + ".weight", "linear_1.weight", outDim, inDim);
        var b1 = OptT(first + ".bias", "linear_1.bias", outDim);
        if (kind == ProjectorKind.Linear) return new ProjectorTrainable(kind, w1, b1, null, null);
        return new ProjectorTrainable(kind, w1, b1, T(second + ".weight", "linear_2.weight", outDim, outDim), OptT(second + ".bias", "linear_2.bias", outDim));
    }

    /// <summary>Float copies of an inference projector's weights, named with HF LLaVA keys; trainable or frozen.</summary>
    public static ProjectorTrainable From(Projector p, bool trainable = true, string prefix = DefaultPrefix)
    {
        Tensor M(WeightMatrix m, string key) => new([m.Rows, m.Cols], TapeLinear.ToFloats(m), trainable, prefix + key);
        Tensor? V(float[]? v, string key) => v == null ? null : new([v.Length], (float[])v.Clone(), trainable, prefix + key);
        return new ProjectorTrainable(p.Kind, M(p.W1, "linear_1.weight"), V(p.B1, "linear_1.bias"),
            p.W2 is { } w2 ? M(w2, "linear_2.weight") : null, V(p.B2, "linear_2.bias"));
    }

    /// <summary>features (n, in) -> (n, out).</summary>
    public Tensor Forward(Tape tape, Tensor features)
    {
        Tensor h = tape.Linear(features, W1, B1);
        return W2 == null ? h : tape.Linear(tape.GeluErf(h), W2, B2);
    }

    /// <summary>Adds every parameter to a safetensors writer under its name (F32).</summary>
    public void AddTo(SafeTensorsWriter w)
    {
        foreach (var t in Parameters) w.Add(t.Name!, t.Shape.Select(d => (long)d).ToArray(), t.Data);
    }

    /// <summary>A standalone projector file (keys multi_modal_projector.*) that LlavaModel.Compose and `furnace caption --projector` read.</summary>
    public void Save(string path)
    {
        var w = new SafeTensorsWriter().AddMetadata("format", "pt");
        AddTo(w);
        w.Write(path);
    }
}
