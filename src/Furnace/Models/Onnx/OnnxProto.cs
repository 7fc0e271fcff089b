// What Furnace reads and changes in ONNX model files: float initializers (ResNet18's MeanImage) and extra graph
// outputs (an intermediate value exposed for OnnxImageEncoder), through the classes Grpc.Tools generates from
// ONNX's onnx.proto (Proto/onnx.proto, namespace Furnace.Models.Onnx.Proto) and the Google.Protobuf runtime.
using System.Buffers.Binary;
using Furnace.Models.Onnx.Proto;
using Google.Protobuf;

namespace Furnace.Models.Onnx;

internal static class OnnxProto
{
    /// <summary>One float initializer (a named constant tensor) of the model's main graph.</summary>
    public sealed record FloatTensor(string Name, long[] Dims, float[] Data);

    /// <summary>A ModelProto parsed from <paramref name="model"/>; malformed bytes throw InvalidDataException.</summary>
    public static ModelProto Parse(ReadOnlySpan<byte> model)
    {
        try
        {
            return ModelProto.Parser.ParseFrom(model);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }

    /// <summary>The FLOAT initializer called <paramref name="name"/> in the graph of a ModelProto, or null.</summary>
    public static FloatTensor? ReadFloatInitializer(ReadOnlySpan<byte> model, string name)
    {
        ModelProto m = Parse(model);
        if (m.Graph is null) return null;
        foreach (TensorProto t in m.Graph.Initializer)
        {
            if (t.Name != name || t.DataType != (int)TensorProto.Types.DataType.Float) continue;
            float[]? data = t.HasRawData ? ToFloats(t.RawData.Span) : t.FloatData.Count > 0 ? [.. t.FloatData] : null;
            if (data is not null) return new FloatTensor(t.Name, [.. t.Dims], data);
        }
        return null;
    }

    private static float[] ToFloats(ReadOnlySpan<byte> little)
    {
        var result = new float[little.Length / 4];
        for (int i = 0; i < result.Length; i++)
            result[i] = BinaryPrimitives.ReadSingleLittleEndian(little.Slice(4 * i, 4));
        return result;
    }

    /// <summary>The model re-encoded with extra FLOAT graph outputs (intermediate values named by a node output).</summary>
    public static byte[] AppendGraphOutputs(ReadOnlySpan<byte> model, IEnumerable<string> names)
    {
        ModelProto m = Parse(model);
        m.Graph ??= new GraphProto();
        foreach (string name in names)
            m.Graph.Output.Add(ValueInfo(name, TensorProto.Types.DataType.Float, dims: null));
        return m.ToByteArray();
    }

    /// <summary>ValueInfoProto: a name and a tensor type; dims null leaves the shape unknown, a null entry is a symbolic dim "N".</summary>
    public static ValueInfoProto ValueInfo(string name, TensorProto.Types.DataType elemType, long?[]? dims)
    {
        var tensorType = new TypeProto.Types.Tensor { ElemType = (int)elemType };
        if (dims is not null)
        {
            tensorType.Shape = new TensorShapeProto();
            foreach (long? d in dims)
                tensorType.Shape.Dim.Add(d is long v ? new TensorShapeProto.Types.Dimension { DimValue = v } : new TensorShapeProto.Types.Dimension { DimParam = "N" });
        }
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = tensorType } };
    }
}
