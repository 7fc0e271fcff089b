// Tiny ONNX graphs (ModelProto, IR 7, opset 13) built with the classes generated from onnx.proto, for the
// encoder's config and error tests.
using Furnace.Models.Onnx;
using Furnace.Models.Onnx.Proto;
using Google.Protobuf;

namespace Furnace.Tests.Onnx;

internal static class TinyOnnx
{
    public sealed record Node(string OpType, string[] Inputs, string[] Outputs);

    public static byte[] Model(Node[] nodes, (string Name, long?[] Dims)[] inputs, (string Name, long?[]? Dims)[] outputs) =>
        Proto(nodes, inputs, outputs).ToByteArray();

    public static ModelProto Proto(Node[] nodes, (string Name, long?[] Dims)[] inputs, (string Name, long?[]? Dims)[] outputs)
    {
        var graph = new GraphProto { Name = "tiny" };
        int i = 0;
        foreach (Node n in nodes)
            graph.Node.Add(new NodeProto { Name = $"n{i++}", OpType = n.OpType, Input = { n.Inputs }, Output = { n.Outputs } });
        const TensorProto.Types.DataType F = TensorProto.Types.DataType.Float;
        foreach (var (name, dims) in inputs) graph.Input.Add(OnnxProto.ValueInfo(name, F, dims));
        foreach (var (name, dims) in outputs) graph.Output.Add(OnnxProto.ValueInfo(name, F, dims));
        return new ModelProto
        {
            IrVersion = 7,
            OpsetImport = { new OperatorSetIdProto { Domain = "", Version = 13 } },
            Graph = graph,
        };
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
