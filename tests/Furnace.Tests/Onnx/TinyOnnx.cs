// Tiny ONNX graphs written byte by byte (ModelProto, IR 7, opset 13) for the encoder's config and error tests.
using Furnace.Models.Onnx;
using W = Furnace.Models.Onnx.OnnxProto.Writer;
using P = Furnace.Models.Onnx.OnnxProto;

namespace Furnace.Tests.Onnx;

internal static class TinyOnnx
{
    public sealed record Node(string OpType, string[] Inputs, string[] Outputs);

    public static byte[] Model(Node[] nodes, (string Name, long?[] Dims)[] inputs, (string Name, long?[]? Dims)[] outputs)
    {
        var graph = new W();
        int i = 0;
        foreach (Node n in nodes)
        {
            var node = new W();
            foreach (string x in n.Inputs) node.String(P.NodeInput, x);
            foreach (string y in n.Outputs) node.String(P.NodeOutput, y);
            node.String(P.NodeName, $"n{i++}").String(P.NodeOpType, n.OpType);
            graph.Message(P.GraphNode, node);
        }
        graph.String(P.GraphName, "tiny");
        foreach (var (name, dims) in inputs) graph.Message(P.GraphInput, P.ValueInfo(name, P.ElemFloat, dims));
        foreach (var (name, dims) in outputs) graph.Message(P.GraphOutput, P.ValueInfo(name, P.ElemFloat, dims));
        return new W()
            .Varint(P.ModelIrVersion, 7)
            .Message(P.ModelOpsetImport, new W().String(P.OpsetDomain, "").Varint(P.OpsetVersion, 13))
            .Message(P.ModelGraph, graph)
            .ToArray();
    }

    /// <summary>pixels (batch, 3, 4, 4) -> Relu -> relu -> GlobalAveragePool -> pooled (batch, 3, 1, 1); batch null is dynamic.</summary>
    public static byte[] ReluPool(long? batch) => Model(
        [new("Relu", ["pixels"], ["relu"]), new("GlobalAveragePool", ["relu"], ["pooled"])],
        [("pixels", [batch, 3, 4, 4])],
        [("pooled", [batch, 3, 1, 1])]);

    /// <summary>map (1, 3, 2, 3) -> Identity -> out (1, 3, 2, 3).</summary>
    public static byte[] Identity() => Model(
        [new("Identity", ["map"], ["out"])],
        [("map", [1, 3, 2, 3])],
        [("out", [1, 3, 2, 3])]);

    /// <summary>Two image-shaped inputs added: the encoder feeds only one.</summary>
    public static byte[] TwoInputs() => Model(
        [new("Add", ["a", "b"], ["sum"])],
        [("a", [1, 3, 4, 4]), ("b", [1, 3, 4, 4])],
        [("sum", [1, 3, 4, 4])]);

    public static string Write(Support.TempDir dir, string name, byte[] model)
    {
        string path = dir.File(name);
        File.WriteAllBytes(path, model);
        return path;
    }
}
