// OnnxProto through the classes generated from onnx.proto: encode/parse round trips (tiny graphs and the real
// ResNet18 files, written by CNTK's exporter, i.e. not by us), initializers and appended graph outputs.
using Furnace.Models.Onnx;
using Furnace.Models.Onnx.Proto;
using Google.Protobuf;

namespace Furnace.Tests.Onnx;

public sealed class OnnxProtoTests
{
    private static ModelProto WithInitializers(params TensorProto[] tensors)
    {
        ModelProto m = TinyOnnx.Proto([new("Identity", ["x"], ["y"])], [("x", [1, 2])], [("y", [1, 2])]);
        m.Graph.Initializer.Add(tensors);
        return m;
    }

    private static TensorProto Raw(string name, long[] dims, float[] values, TensorProto.Types.DataType type = TensorProto.Types.DataType.Float) => new()
    {
        Name = name,
        DataType = (int)type,
        Dims = { dims },
        RawData = ByteString.CopyFrom(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan())),
    };

    [Fact]
    public void Parse_TinyModelBytes_EqualsTheModelAndReencodesToTheSameBytes()
    {
        ModelProto model = WithInitializers(Raw("w", [2, 2], [1f, -2f, 3.5f, 0f]));
        byte[] bytes = model.ToByteArray();
        ModelProto parsed = OnnxProto.Parse(bytes);
        Assert.Equal(model, parsed);
        Assert.Equal(bytes, parsed.ToByteArray());
        Assert.Equal(["n0"], parsed.Graph.Node.Select(n => n.Name));
        Assert.Equal(13, parsed.OpsetImport.Single().Version);
        Assert.Equal(new long[] { 1, 2 }, parsed.Graph.Input.Single().Type.TensorType.Shape.Dim.Select(d => d.DimValue));
    }

    [Theory]
    [InlineData(ResNet18.ModelFile)]
    [InlineData(ResNet18.PreprocessFile)]
    public void Parse_RealResNetFile_SurvivesEncodeAndParseUnchanged(string file)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(ResNet18.DefaultDirectory, file));
        ModelProto model = OnnxProto.Parse(bytes);
        byte[] again = model.ToByteArray();
        Assert.Equal(bytes.Length, again.Length);
        Assert.Equal(model, OnnxProto.Parse(again));
        Assert.NotEmpty(model.Graph.Node);
    }

    [Fact]
    public void ReadFloatInitializer_RawAndFloatData_ReturnsNameDimsAndValues()
    {
        var listed = new TensorProto { Name = "b", DataType = (int)TensorProto.Types.DataType.Float, Dims = { 3 }, FloatData = { 0.25f, -1f, 7f } };
        byte[] bytes = WithInitializers(Raw("a", [1, 2], [1.5f, -2f]), listed).ToByteArray();

        OnnxProto.FloatTensor? a = OnnxProto.ReadFloatInitializer(bytes, "a");
        Assert.NotNull(a);
        Assert.Equal("a", a.Name);
        Assert.Equal(new long[] { 1, 2 }, a.Dims);
        Assert.Equal(new[] { 1.5f, -2f }, a.Data);
        OnnxProto.FloatTensor? b = OnnxProto.ReadFloatInitializer(bytes, "b");
        Assert.NotNull(b);
        Assert.Equal(new long[] { 3 }, b.Dims);
        Assert.Equal(new[] { 0.25f, -1f, 7f }, b.Data);
    }

    [Fact]
    public void ReadFloatInitializer_MissingNameOrNotFloat_ReturnsNull()
    {
        byte[] bytes = WithInitializers(Raw("d", [2], [1f, 2f], TensorProto.Types.DataType.Double)).ToByteArray();
        Assert.Null(OnnxProto.ReadFloatInitializer(bytes, "d"));
        Assert.Null(OnnxProto.ReadFloatInitializer(bytes, "absent"));
    }

    [Fact]
    public void ReadFloatInitializer_RealPreprocessGraph_FindsTheMeanImage()
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(ResNet18.DefaultDirectory, ResNet18.PreprocessFile));
        OnnxProto.FloatTensor? mean = OnnxProto.ReadFloatInitializer(bytes, ResNet18.MeanImageName);
        Assert.NotNull(mean);
        Assert.Equal(new long[] { 1, 3, 224, 224 }, mean.Dims);
        Assert.Equal(3 * 224 * 224, mean.Data.Length);
        Assert.All(mean.Data, v => Assert.InRange(v, 0f, 255f)); // a mean of 0–255 pixels
    }

    [Fact]
    public void AppendGraphOutputs_TinyModel_AddsUnshapedFloatOutputsAndKeepsTheRest()
    {
        ModelProto model = TinyOnnx.Proto([new("Relu", ["x"], ["r"]), new("Neg", ["r"], ["y"])], [("x", [1, 2])], [("y", [1, 2])]);
        ModelProto grown = OnnxProto.Parse(OnnxProto.AppendGraphOutputs(model.ToByteArray(), ["r"]));

        Assert.Equal(["y", "r"], grown.Graph.Output.Select(o => o.Name));
        ValueInfoProto added = grown.Graph.Output[1];
        Assert.Equal((int)TensorProto.Types.DataType.Float, added.Type.TensorType.ElemType);
        Assert.Null(added.Type.TensorType.Shape);
        grown.Graph.Output.RemoveAt(1);
        Assert.Equal(model, grown);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("truncated")]
    public void Parse_NotAModel_ThrowsInvalidData(string kind)
    {
        byte[] good = TinyOnnx.ReluPool(1);
        byte[] bytes = kind == "garbage" ? "this is not a protobuf, just text\n"u8.ToArray() : good[..40];
        Assert.Throws<InvalidDataException>(() => OnnxProto.Parse(bytes));
    }
}
