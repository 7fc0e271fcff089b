// Writer of GGUF v3 files, byte-compatible with llama.cpp's gguf writer: header, metadata in insertion order,
// tensor infos, data aligned to general.alignment (default 32) with zero padding. Output is atomic.
using System.Buffers.Binary;
using System.Text;
using Furnace.IO;
using Furnace.Tensors;

namespace Furnace.Formats.Gguf;

public sealed class GgufWriter
{
    private readonly List<(string Key, GgufValue Value)> _metadata = new();
    private readonly List<Entry> _tensors = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);

    private sealed record Entry(string Name, DType Type, long[] Shape, long ByteLength, Action<Stream> Write);

    public int Alignment { get; private set; } = GgufFile.DefaultAlignment;

    public GgufWriter Add(string key, GgufValue value)
    {
        int i = _metadata.FindIndex(m => m.Key == key);
        if (i >= 0) _metadata[i] = (key, value);
        else _metadata.Add((key, value));
        if (key == "general.alignment") Alignment = (int)(value.AsInt64() ?? GgufFile.DefaultAlignment);
        return this;
    }

    /// <summary>Drops a metadata key added before (no-op when absent).</summary>
    public GgufWriter Remove(string key)
    {
        _metadata.RemoveAll(m => m.Key == key);
        return this;
    }

    public GgufWriter Add(string key, string value) => Add(key, GgufValue.Of(value));

    public GgufWriter Add(string key, uint value) => Add(key, GgufValue.Of(value));

    public GgufWriter Add(string key, float value) => Add(key, GgufValue.Of(value));

    /// <summary>A tensor whose bytes are already encoded in <paramref name="type"/>; shape in ggml order (ne0 first).</summary>
    public GgufWriter AddTensor(string name, DType type, long[] shape, byte[] data)
    {
        long len = ByteLength(type, shape);
        if (data.Length != len) throw new ArgumentException($"tensor '{name}': {data.Length} bytes given, shape {string.Join("x", shape)} {DTypes.Name(type)} needs {len}");
        return AddTensor(name, type, shape, len, s => s.Write(data));
    }

    /// <summary>A float tensor encoded row by row into <paramref name="type"/> (quantized bit-exactly as ggml does).</summary>
    public GgufWriter AddTensor(string name, DType type, long[] shape, float[] values)
    {
        long rowLen = shape[0];
        long rows = values.Length / rowLen;
        if (rows * rowLen != values.Length || rows != shape.Skip(1).Aggregate(1L, (a, b) => a * b))
            throw new ArgumentException($"tensor '{name}': {values.Length} values do not fill shape {string.Join("x", shape)}");
        long len = ByteLength(type, shape);
        return AddTensor(name, type, shape, len, s =>
        {
            var buf = new byte[DTypes.RowBytes(type, rowLen)];
            for (long r = 0; r < rows; r++)
            {
                Quantize.Row(buf, values.AsSpan((int)(r * rowLen), (int)rowLen), type);
                s.Write(buf);
            }
        });
    }

    public GgufWriter AddTensor(string name, DType type, long[] shape, long byteLength, Action<Stream> write)
    {
        if (!_names.Add(name)) throw new ArgumentException($"tensor '{name}' added twice");
        if (shape.Length is 0 or > 4) throw new ArgumentException($"tensor '{name}': {shape.Length} dimensions (1..4 allowed)");
        _tensors.Add(new Entry(name, type, shape, byteLength, write));
        return this;
    }

    private static long ByteLength(DType type, long[] shape) =>
        DTypes.RowBytes(type, shape[0]) * shape.Skip(1).Aggregate(1L, (a, b) => a * b);

    public void Write(string path) => AtomicFile.Write(path, WriteTo);

    public void WriteTo(Stream s)
    {
        var w = new BinaryWriter(s, Encoding.UTF8, leaveOpen: true);
        w.Write(GgufFile.Magic);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_metadata.Count);
        foreach (var (key, value) in _metadata)
        {
            WriteString(w, key);
            w.Write((uint)value.Type);
            WriteValue(w, value);
        }
        long offset = 0;
        foreach (var t in _tensors)
        {
            WriteString(w, t.Name);
            w.Write((uint)t.Shape.Length);
            foreach (long d in t.Shape) w.Write((ulong)d);
            w.Write((uint)t.Type);
            w.Write((ulong)offset);
            offset = GgufFile.AlignUp(offset + t.ByteLength, Alignment);
        }
        w.Flush();
        long pos = s.Position;
        Pad(s, GgufFile.AlignUp(pos, Alignment) - pos);
        foreach (var t in _tensors)
        {
            long start = s.Position;
            t.Write(s);
            long written = s.Position - start;
            if (written != t.ByteLength) throw new InvalidOperationException($"tensor '{t.Name}': wrote {written} bytes, expected {t.ByteLength}");
            Pad(s, GgufFile.AlignUp(written, Alignment) - written);
        }
    }

    private static void Pad(Stream s, long n)
    {
        for (long i = 0; i < n; i++) s.WriteByte(0);
    }

    private static void WriteString(BinaryWriter w, string str)
    {
        byte[] b = Encoding.UTF8.GetBytes(str);
        w.Write((ulong)b.Length);
        w.Write(b);
    }

    private static void WriteValue(BinaryWriter w, GgufValue v)
    {
        switch (v.Value)
        {
            case byte x: w.Write(x); break;
            case sbyte x: w.Write(x); break;
            case ushort x: w.Write(x); break;
            case short x: w.Write(x); break;
            case uint x: w.Write(x); break;
            case int x: w.Write(x); break;
            case float x: w.Write(x); break;
            case bool x: w.Write((byte)(x ? 1 : 0)); break;
            case string x: WriteString(w, x); break;
            case ulong x: w.Write(x); break;
            case long x: w.Write(x); break;
            case double x: w.Write(x); break;
            case Array a:
                w.Write((uint)v.ElementType);
                w.Write((ulong)a.Length);
                foreach (object? e in a)
                {
                    if (e is GgufValue inner)
                    {
                        w.Write((uint)inner.ElementType);
                        w.Write((ulong)inner.ArrayLength);
                        foreach (object? ie in (Array)inner.Value) WriteValue(w, new GgufValue(inner.ElementType, ie!));
                    }
                    else
                    {
                        WriteValue(w, new GgufValue(v.ElementType, e!));
                    }
                }
                break;
            default:
                throw new ArgumentException($"cannot write metadata value of type {v.Value.GetType()}");
        }
    }
}
