// Writer of safetensors files, byte-identical to huggingface/safetensors `serialize` (safetensors/src/tensor.rs
// `prepare`): tensors sorted by dtype alignment (the Dtype enum order, largest first) then by name, laid out back
// to back from offset 0; the header is compact JSON in serde_json's format with "__metadata__" first, padded with
// spaces to a multiple of 8 bytes. One deviation: the reference keeps metadata in a HashMap (unspecified order);
// here its keys are sorted, so output is deterministic. Output is atomic (temp file + rename).
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Furnace.IO;
using Furnace.Tensors;

namespace Furnace.Formats.SafeTensors;

public sealed class SafeTensorsWriter
{
    private readonly List<Entry> _tensors = new();
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _metadata = new(StringComparer.Ordinal);

    private sealed record Entry(string Name, string DType, long[] Shape, long ByteLength, Action<Stream> Write);

    /// <summary>A "__metadata__" entry (transformers writes {"format": "pt"}).</summary>
    public SafeTensorsWriter AddMetadata(string key, string value)
    {
        _metadata[key] = value;
        return this;
    }

    /// <summary>A float tensor (row-major, shape outermost first) stored as F32, F16 or BF16 (round to nearest even).</summary>
    public SafeTensorsWriter Add(string name, long[] shape, float[] values, DType type = DType.F32)
    {
        string dtype = SafeTensorsDTypes.FromDType(type);
        long count = Elements(name, shape);
        if (count != values.Length) throw new ArgumentException($"tensor '{name}': {values.Length} values do not fill shape {Text(shape)} ({count} elements)");
        int size = DTypes.BlockBytes(type);
        return Add(name, dtype, shape, count * size, s =>
        {
            const int chunk = 1 << 16;
            var buf = new byte[chunk * size];
            for (int i = 0; i < values.Length; i += chunk)
            {
                int n = Math.Min(chunk, values.Length - i);
                Quantize.Row(buf, values.AsSpan(i, n), type);
                s.Write(buf, 0, n * size);
            }
        });
    }

    /// <summary>A tensor of any safetensors dtype ("I64", "U8", "F8_E4M3", ...) given as its little-endian bytes.</summary>
    public SafeTensorsWriter AddRaw(string name, string dtype, long[] shape, byte[] data)
    {
        if (!SafeTensorsDTypes.IsKnown(dtype)) throw new ArgumentException($"tensor '{name}': unknown safetensors dtype '{dtype}'");
        long bits = Elements(name, shape) * SafeTensorsDTypes.Bits(dtype);
        if (bits % 8 != 0 || bits / 8 != data.Length)
            throw new ArgumentException($"tensor '{name}': {data.Length} bytes given, shape {Text(shape)} {dtype} needs {bits / 8.0}");
        return Add(name, dtype, shape, data.Length, s => s.Write(data));
    }

    /// <summary>
    /// A tensor whose byteLength bytes (little-endian, of any safetensors dtype) are streamed by <paramref name="write"/>
    /// when the file is written, so that large checkpoints never sit in memory at once.
    /// </summary>
    public SafeTensorsWriter AddStreamed(string name, string dtype, long[] shape, long byteLength, Action<Stream> write)
    {
        if (!SafeTensorsDTypes.IsKnown(dtype)) throw new ArgumentException($"tensor '{name}': unknown safetensors dtype '{dtype}'");
        long bits = Elements(name, shape) * SafeTensorsDTypes.Bits(dtype);
        if (bits % 8 != 0 || bits / 8 != byteLength)
            throw new ArgumentException($"tensor '{name}': {byteLength} bytes announced, shape {Text(shape)} {dtype} needs {bits / 8.0}");
        return Add(name, dtype, shape, byteLength, write);
    }

    private SafeTensorsWriter Add(string name, string dtype, long[] shape, long byteLength, Action<Stream> write)
    {
        if (name == SafeTensorsFile.MetadataKey) throw new ArgumentException($"'{name}' is reserved for metadata");
        if (!_names.Add(name)) throw new ArgumentException($"tensor '{name}' added twice");
        _tensors.Add(new Entry(name, dtype, (long[])shape.Clone(), byteLength, write));
        return this;
    }

    private static long Elements(string name, long[] shape)
    {
        long n = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentException($"tensor '{name}': negative dimension in shape {Text(shape)}");
            n = checked(n * d);
        }
        return n;
    }

    public void Write(string path) => AtomicFile.Write(path, WriteTo);

    public void WriteTo(Stream s)
    {
        var ordered = Ordered();
        byte[] header = Header(ordered);
        Span<byte> len = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(len, (ulong)header.Length);
        s.Write(len);
        s.Write(header);
        foreach (var t in ordered)
        {
            long start = s.Position;
            t.Write(s);
            if (s.Position - start != t.ByteLength) throw new InvalidOperationException($"tensor '{t.Name}': wrote {s.Position - start} bytes, expected {t.ByteLength}");
        }
    }

    /// <summary>The header exactly as written after the 8-byte length: JSON, space-padded to a multiple of 8.</summary>
    public byte[] HeaderBytes() => Header(Ordered());

    private List<Entry> Ordered()
    {
        var list = new List<Entry>(_tensors);
        list.Sort((a, b) =>
        {
            int c = SafeTensorsDTypes.AlignmentRank(b.DType).CompareTo(SafeTensorsDTypes.AlignmentRank(a.DType));
            // Rust compares Strings by their UTF-8 bytes
            return c != 0 ? c : Encoding.UTF8.GetBytes(a.Name).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(b.Name));
        });
        return list;
    }

    private byte[] Header(List<Entry> ordered)
    {
        var sb = new StringBuilder("{");
        bool first = true;
        if (_metadata.Count > 0)
        {
            Json(sb, SafeTensorsFile.MetadataKey).Append(":{");
            sb.AppendJoin(',', _metadata.Select(kv => Json(new StringBuilder(), kv.Key).Append(':').Append(Json(new StringBuilder(), kv.Value))));
            sb.Append('}');
            first = false;
        }
        long offset = 0;
        foreach (var t in ordered)
        {
            if (!first) sb.Append(',');
            first = false;
            Json(sb, t.Name).Append(":{\"dtype\":");
            Json(sb, t.DType).Append(",\"shape\":[");
            sb.AppendJoin(',', t.Shape.Select(d => d.ToString(CultureInfo.InvariantCulture)));
            sb.Append("],\"data_offsets\":[").Append(offset.ToString(CultureInfo.InvariantCulture)).Append(',');
            offset += t.ByteLength;
            sb.Append(offset.ToString(CultureInfo.InvariantCulture)).Append("]}");
        }
        sb.Append('}');
        byte[] json = Encoding.UTF8.GetBytes(sb.ToString());
        int pad = (8 - json.Length % 8) % 8;
        var padded = new byte[json.Length + pad];
        json.CopyTo(padded, 0);
        padded.AsSpan(json.Length).Fill((byte)' ');
        return padded;
    }

    // serde_json string escaping: quote, backslash and control characters only; everything else stays raw UTF-8.
    private static StringBuilder Json(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case < ' ': sb.Append("\\u00").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"');
    }

    private static string Text(long[] shape) => "[" + string.Join(", ", shape) + "]";
}
