// Just enough of the protobuf wire format to read ONNX initializers, append graph outputs and
// write tiny test graphs, without a protobuf library.
// Mirrors onnx/onnx.proto (field numbers below) and the protobuf encoding spec
// (https://protobuf.dev/programming-guides/encoding/): varint keys (field << 3 | wire type),
// wire types 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.
using System.Buffers.Binary;
using System.Text;

namespace Furnace.Models.Onnx;

internal static class OnnxProto
{
    // onnx.proto field numbers used here.
    public const int ModelIrVersion = 1, ModelGraph = 7, ModelOpsetImport = 8;
    public const int OpsetDomain = 1, OpsetVersion = 2;
    public const int GraphNode = 1, GraphName = 2, GraphInitializer = 5, GraphInput = 11, GraphOutput = 12;
    public const int NodeInput = 1, NodeOutput = 2, NodeName = 3, NodeOpType = 4, NodeAttribute = 5;
    public const int TensorDims = 1, TensorDataType = 2, TensorFloatData = 4, TensorName = 8, TensorRawData = 9;
    public const int ValueInfoName = 1, ValueInfoType = 2;
    public const int TypeTensor = 1, TensorTypeElemType = 1, TensorTypeShape = 2;
    public const int ShapeDim = 1, DimValue = 1, DimParam = 2;
    public const int ElemFloat = 1;

    /// <summary>One float initializer (a named constant tensor) of the model's main graph.</summary>
    public sealed record FloatTensor(string Name, long[] Dims, float[] Data);

    /// <summary>The FLOAT initializer called <paramref name="name"/> in the graph of a ModelProto, or null.</summary>
    public static FloatTensor? ReadFloatInitializer(ReadOnlySpan<byte> model, string name)
    {
        var r = new Reader(model);
        while (r.Next(out int field, out int wire))
        {
            if (field != ModelGraph || wire != 2) { r.Skip(wire); continue; }
            var g = new Reader(r.Bytes());
            while (g.Next(out int gf, out int gw))
            {
                if (gf != GraphInitializer || gw != 2) { g.Skip(gw); continue; }
                FloatTensor? t = ReadTensor(g.Bytes(), name);
                if (t is not null) return t;
            }
        }
        return null;
    }

    private static FloatTensor? ReadTensor(ReadOnlySpan<byte> tensor, string wanted)
    {
        var t = new Reader(tensor);
        var dims = new List<long>();
        string? name = null;
        long dataType = 0;
        float[]? data = null;
        while (t.Next(out int f, out int w))
        {
            switch (f)
            {
                case TensorDims when w == 0: dims.Add((long)t.Varint()); break;
                case TensorDims when w == 2:
                    var packed = new Reader(t.Bytes());
                    while (!packed.End) dims.Add((long)packed.Varint());
                    break;
                case TensorDataType when w == 0: dataType = (long)t.Varint(); break;
                case TensorName when w == 2: name = Encoding.UTF8.GetString(t.Bytes()); break;
                case TensorRawData when w == 2: data = ToFloats(t.Bytes()); break;
                case TensorFloatData when w == 2: data = ToFloats(t.Bytes()); break;
                default: t.Skip(w); break;
            }
        }
        if (name != wanted || dataType != ElemFloat || data is null) return null;
        return new FloatTensor(name, dims.ToArray(), data);
    }

    private static float[] ToFloats(ReadOnlySpan<byte> little)
    {
        var result = new float[little.Length / 4];
        for (int i = 0; i < result.Length; i++)
            result[i] = BinaryPrimitives.ReadSingleLittleEndian(little.Slice(4 * i, 4));
        return result;
    }

    /// <summary>
    /// The model with extra FLOAT graph outputs (intermediate values named by a node output).
    /// Protobuf merges a repeated occurrence of an embedded message field, and concatenates repeated
    /// fields, so appending <c>graph { output {...} }</c> to the ModelProto bytes adds outputs to the
    /// one graph without re-encoding the rest.
    /// </summary>
    public static byte[] AppendGraphOutputs(ReadOnlySpan<byte> model, IEnumerable<string> names)
    {
        var graph = new Writer();
        foreach (string name in names)
            graph.Message(GraphOutput, ValueInfo(name, ElemFloat, dims: null));
        var tail = new Writer();
        tail.Message(ModelGraph, graph);
        byte[] result = new byte[model.Length + tail.Length];
        model.CopyTo(result);
        tail.ToArray().CopyTo(result, model.Length);
        return result;
    }

    /// <summary>ValueInfoProto: a name and a tensor type; dims null leaves the shape unknown, a null entry is a symbolic dim.</summary>
    public static Writer ValueInfo(string name, int elemType, long?[]? dims)
    {
        var tensorType = new Writer().Varint(TensorTypeElemType, (ulong)elemType);
        if (dims is not null)
        {
            var shape = new Writer();
            foreach (long? d in dims)
                shape.Message(ShapeDim, d is long v ? new Writer().Varint(DimValue, (ulong)v) : new Writer().String(DimParam, "N"));
            tensorType.Message(TensorTypeShape, shape);
        }
        return new Writer().String(ValueInfoName, name).Message(ValueInfoType, new Writer().Message(TypeTensor, tensorType));
    }

    public ref struct Reader
    {
        private readonly ReadOnlySpan<byte> _data;
        private int _pos;

        public Reader(ReadOnlySpan<byte> data)
        {
            _data = data;
            _pos = 0;
        }

        public readonly bool End => _pos >= _data.Length;

        public bool Next(out int field, out int wire)
        {
            field = wire = 0;
            if (End) return false;
            ulong key = Varint();
            field = (int)(key >> 3);
            wire = (int)(key & 7);
            return true;
        }

        public ulong Varint()
        {
            ulong v = 0;
            for (int shift = 0; ; shift += 7)
            {
                if (_pos >= _data.Length || shift > 63) throw new InvalidDataException("truncated or overlong protobuf varint");
                byte b = _data[_pos++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
        }

        public ReadOnlySpan<byte> Bytes()
        {
            ulong len = Varint();
            if (len > (ulong)(_data.Length - _pos)) throw new InvalidDataException("protobuf length runs past the end");
            var s = _data.Slice(_pos, (int)len);
            _pos += (int)len;
            return s;
        }

        public void Skip(int wire)
        {
            switch (wire)
            {
                case 0: Varint(); break;
                case 1: _pos += 8; break;
                case 2: Bytes(); break;
                case 5: _pos += 4; break;
                default: throw new InvalidDataException($"unsupported protobuf wire type {wire}");
            }
            if (_pos > _data.Length) throw new InvalidDataException("protobuf field runs past the end");
        }
    }

    public sealed class Writer
    {
        private readonly MemoryStream _buffer = new();

        public int Length => (int)_buffer.Length;

        public byte[] ToArray() => _buffer.ToArray();

        public Writer Varint(int field, ulong value)
        {
            Key(field, 0);
            Raw(value);
            return this;
        }

        public Writer Bytes(int field, ReadOnlySpan<byte> value)
        {
            Key(field, 2);
            Raw((ulong)value.Length);
            _buffer.Write(value);
            return this;
        }

        public Writer String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

        public Writer Message(int field, Writer message) => Bytes(field, message.ToArray());

        public Writer Floats(int field, ReadOnlySpan<float> values)
        {
            var bytes = new byte[values.Length * 4];
            for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(4 * i), values[i]);
            return Bytes(field, bytes);
        }

        private void Key(int field, int wire) => Raw(((ulong)field << 3) | (uint)wire);

        private void Raw(ulong v)
        {
            while (v >= 0x80)
            {
                _buffer.WriteByte((byte)(v | 0x80));
                v >>= 7;
            }
            _buffer.WriteByte((byte)v);
        }
    }
}
