// What it takes to run any ONNX image encoder: the file, which input and output, their layout,
// and the pixel preprocessing. Unset fields are read from the graph where it can tell.
namespace Furnace.Models.Onnx;

public sealed record OnnxEncoderConfig(string ModelPath)
{
    /// <summary>The image input, checked against the graph when set; the graph must need no other input.</summary>
    public string? InputName { get; init; }

    /// <summary>
    /// A graph output, or the name of any intermediate value (a node output), which is then added
    /// to the graph as an extra output; null picks the graph's only output.
    /// </summary>
    public string? OutputName { get; init; }

    /// <summary>(height, width); null takes the graph's static dims. Must agree with them when both are given.</summary>
    public (int Height, int Width)? InputSize { get; init; }

    public OnnxInputLayout InputLayout { get; init; } = OnnxInputLayout.Nchw;

    public PixelNormalization Normalization { get; init; } = PixelNormalization.None;

    public OnnxOutputKind OutputKind { get; init; } = OnnxOutputKind.Pooled;

    /// <summary>ONNX Runtime intra-op threads; 0 lets it choose (one per physical core).</summary>
    public int IntraOpThreads { get; init; }
}
