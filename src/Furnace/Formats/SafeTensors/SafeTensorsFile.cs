// Reader of Hugging Face safetensors files (huggingface/safetensors, safetensors/src/tensor.rs `read_metadata`
// and `Metadata::validate`): u64 little-endian header length N, N bytes of UTF-8 JSON
//   {"__metadata__": {str: str}, NAME: {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
// (padded with spaces), then the data section; offsets are relative to its start.
// The file is memory-mapped and tensors are used in place. Validation follows the reference library: header at
// most 100,000,000 bytes, valid UTF-8 JSON, every tensor's byte span = elements × dtype size, spans contiguous
// from 0 without overlap or gap, and the last one ending exactly at the end of the file. Every failure is a
// FurnaceFormatException naming the file and, where there is one, the tensor.
using System.Buffers.Binary;
using System.Text.Json;
using System.Text.Unicode;
using Furnace.Formats.Weights;
using Furnace.IO;
using Furnace.Tensors;

namespace Furnace.Formats.SafeTensors;

public sealed class SafeTensorsFile : ITensorSource, IRawTensorSource
{
    /// <summary>The reference implementation's MAX_HEADER_SIZE.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    public const string MetadataKey = "__metadata__";

    private readonly Dictionary<string, SafeTensorInfo> _byName;

    private SafeTensorsFile(MappedFile map, long headerLength, Dictionary<string, string> metadata, List<SafeTensorInfo> tensors)
    {
        Map = map;
        HeaderLength = headerLength;
        Metadata = metadata;
        Tensors = tensors;
        _byName = tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    public string Path => Map.Path;

    public MappedFile Map { get; }

    /// <summary>N, the byte length of the JSON header (including its space padding).</summary>
    public long HeaderLength { get; }

    public long DataOffset => 8 + HeaderLength;

    /// <summary>The free-form "__metadata__" map (empty when absent).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Every tensor of the header, supported dtype or not, in data order.</summary>
    public IReadOnlyList<SafeTensorInfo> Tensors { get; }

    public static SafeTensorsFile Open(string path) => MappedInput.Parse(path, Parse);

    public SafeTensorInfo? FindInfo(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Tensors of the dtypes Furnace computes with (F32, F16, BF16); others are listed in Tensors only.</summary>
    public IEnumerable<TensorEntry> Entries => Tensors.Where(t => t.Type != null).Select(ToEntry);

    /// <summary>The tensor, null if absent; throws if present with a dtype Furnace does not support.</summary>
    public TensorEntry? Find(string name) => _byName.TryGetValue(name, out var t) ? ToEntry(t) : null;

    private TensorEntry ToEntry(SafeTensorInfo t) =>
        new(t.Name, t.Shape, t.Type ?? throw new FurnaceFormatException(Path, $"tensor '{t.Name}' has dtype {t.DTypeName}, which Furnace does not support (F32, F16, BF16)"), Map, t.Offset);

    public RawTensorEntry? FindRaw(string name) =>
        _byName.TryGetValue(name, out var t) ? new RawTensorEntry(t.Name, t.DTypeName, t.Shape, Map, t.Offset, t.ByteLength) : null;

    public void Dispose() => Map.Dispose();

    private readonly record struct RawTensor(string Name, string DType, long[] Shape, long Begin, long End);

    private static SafeTensorsFile Parse(MappedFile map)
    {
        string path = map.Path;
        if (map.Length < 8) throw new FurnaceFormatException(path, $"file of {map.Length} bytes is too short for a safetensors header (8-byte length, then JSON)");
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(map.Span(0, 8));
        if (n > (ulong)(map.Length - 8))
            throw new FurnaceFormatException(path, $"header length {n} runs past the end of the file of {map.Length} bytes (truncated, or not a safetensors file)");
        if (n > MaxHeaderBytes) throw new FurnaceFormatException(path, $"header length {n} exceeds the safetensors limit of {MaxHeaderBytes} bytes");
        var header = map.Span(8, (int)n);
        if (!Utf8.IsValid(header)) throw new FurnaceFormatException(path, "header is not valid UTF-8");

        Dictionary<string, string>? metadata = null;
        var raw = new List<RawTensor>();
        try
        {
            ReadHeader(header, path, ref metadata, raw);
        }
        catch (JsonException e)
        {
            throw new FurnaceFormatException(path, $"header is not valid JSON ({e.Message})");
        }

        long headerLength = (long)n;
        long dataLength = map.Length - 8 - headerLength;
        var tensors = new List<SafeTensorInfo>(raw.Count);
        foreach (var t in raw)
        {
            string what = $"tensor '{t.Name}'";
            if (!SafeTensorsDTypes.IsKnown(t.DType))
                throw new FurnaceFormatException(path, $"{what} has unknown dtype '{t.DType}' (known: {string.Join(", ", SafeTensorsDTypes.Names)})");
            long bytes = ByteLength(t, path);
            if (t.End < t.Begin) throw new FurnaceFormatException(path, $"{what} has data_offsets [{t.Begin}, {t.End}] with end before begin");
            if (t.End - t.Begin != bytes)
                throw new FurnaceFormatException(path, $"{what} ({Text(t.Shape)} {t.DType} = {bytes} bytes) has data_offsets [{t.Begin}, {t.End}] spanning {t.End - t.Begin} bytes");
            if (t.End > dataLength)
                throw new FurnaceFormatException(path, $"{what} data_offsets [{t.Begin}, {t.End}] lie beyond the data section of {dataLength} bytes (truncated?)");
            tensors.Add(new SafeTensorInfo(t.Name, t.DType, t.Shape, 8 + headerLength + t.Begin, bytes));
        }

        // The reference writer lays tensors out back to back; its reader rejects overlaps, gaps and trailing bytes.
        var ordered = raw.Select((t, i) => (t, i)).OrderBy(p => p.t.Begin).ThenBy(p => p.t.End).ToList();
        long expected = 0;
        string? previous = null;
        foreach (var (t, _) in ordered)
        {
            if (t.Begin < expected)
                throw new FurnaceFormatException(path, $"tensor '{t.Name}' data_offsets [{t.Begin}, {t.End}] overlap tensor '{previous}' (which ends at {expected})");
            if (t.Begin > expected)
                throw new FurnaceFormatException(path, $"tensor '{t.Name}' data_offsets [{t.Begin}, {t.End}] leave a gap after {(previous == null ? "the header" : $"tensor '{previous}'")} (bytes [{expected}, {t.Begin}) belong to no tensor)");
            expected = t.End;
            previous = t.Name;
        }
        if (expected != dataLength)
            throw new FurnaceFormatException(path, $"{dataLength - expected} bytes follow the last tensor's data (the data section is {dataLength} bytes, tensors cover {expected})");

        var sorted = ordered.Select(p => tensors[p.i]).ToList();
        return new SafeTensorsFile(map, headerLength, metadata ?? new Dictionary<string, string>(StringComparer.Ordinal), sorted);
    }

    private static long ByteLength(RawTensor t, string path)
    {
        long elements = 1;
        foreach (long d in t.Shape)
        {
            if (d != 0 && elements > long.MaxValue / d) throw new FurnaceFormatException(path, $"tensor '{t.Name}' shape {Text(t.Shape)} overflows");
            elements *= d;
        }
        int bits = SafeTensorsDTypes.Bits(t.DType);
        if (elements > long.MaxValue / bits) throw new FurnaceFormatException(path, $"tensor '{t.Name}' shape {Text(t.Shape)} overflows");
        long totalBits = elements * bits;
        if (totalBits % 8 != 0) throw new FurnaceFormatException(path, $"tensor '{t.Name}' ({Text(t.Shape)} {t.DType}) does not fill a whole number of bytes");
        return totalBits / 8;
    }

    private static string Text(long[] shape) => "[" + string.Join(", ", shape) + "]";

    private static void ReadHeader(ReadOnlySpan<byte> header, string path, ref Dictionary<string, string>? metadata, List<RawTensor> tensors)
    {
        var r = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 16 });
        if (!r.Read() || r.TokenType != JsonTokenType.StartObject) throw new FurnaceFormatException(path, "header is not a JSON object");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        while (Next(ref r) != JsonTokenType.EndObject)
        {
            string name = Str(ref r, path);
            if (!seen.Add(name)) throw new FurnaceFormatException(path, $"header names '{name}' twice");
            r.Read();
            if (name == MetadataKey) metadata = ReadMetadata(ref r, path);
            else tensors.Add(ReadTensor(ref r, name, path));
        }
        if (r.Read()) throw new FurnaceFormatException(path, "header has content after its JSON object");
    }

    // Utf8JsonReader accepts escapes such as a lone "\ud800" that cannot become a .NET string.
    private static string Str(ref Utf8JsonReader r, string path)
    {
        try
        {
            return r.GetString()!;
        }
        catch (InvalidOperationException)
        {
            throw new FurnaceFormatException(path, $"header string {Token(ref r)} has an invalid escape sequence");
        }
    }

    private static JsonTokenType Next(ref Utf8JsonReader r)
    {
        if (!r.Read()) throw new JsonException("unexpected end of header");
        return r.TokenType;
    }

    private static Dictionary<string, string> ReadMetadata(ref Utf8JsonReader r, string path)
    {
        if (r.TokenType != JsonTokenType.StartObject) throw new FurnaceFormatException(path, $"'{MetadataKey}' is not a JSON object");
        var m = new Dictionary<string, string>(StringComparer.Ordinal);
        while (Next(ref r) != JsonTokenType.EndObject)
        {
            string key = Str(ref r, path);
            if (Next(ref r) != JsonTokenType.String) throw new FurnaceFormatException(path, $"'{MetadataKey}' entry '{key}' is not a string (safetensors metadata maps strings to strings)");
            if (!m.TryAdd(key, Str(ref r, path))) throw new FurnaceFormatException(path, $"'{MetadataKey}' names '{key}' twice");
        }
        return m;
    }

    private static RawTensor ReadTensor(ref Utf8JsonReader r, string name, string path)
    {
        string what = $"tensor '{name}'";
        if (r.TokenType != JsonTokenType.StartObject) throw new FurnaceFormatException(path, $"{what}: header entry is not a JSON object");
        string? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        while (Next(ref r) != JsonTokenType.EndObject)
        {
            string field = Str(ref r, path);
            r.Read();
            switch (field)
            {
                case "dtype":
                    if (r.TokenType != JsonTokenType.String) throw new FurnaceFormatException(path, $"{what}: dtype is not a string");
                    dtype = Str(ref r, path);
                    break;
                case "shape":
                    shape = ReadInts(ref r, path, $"{what}: shape");
                    break;
                case "data_offsets":
                    offsets = ReadInts(ref r, path, $"{what}: data_offsets");
                    if (offsets.Length != 2) throw new FurnaceFormatException(path, $"{what}: data_offsets has {offsets.Length} entries, expected [begin, end]");
                    break;
                default:
                    r.Skip(); // the reference reader ignores unknown fields
                    break;
            }
        }
        if (dtype == null) throw new FurnaceFormatException(path, $"{what} has no dtype");
        if (shape == null) throw new FurnaceFormatException(path, $"{what} has no shape");
        if (offsets == null) throw new FurnaceFormatException(path, $"{what} has no data_offsets");
        return new RawTensor(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadInts(ref Utf8JsonReader r, string path, string what)
    {
        if (r.TokenType != JsonTokenType.StartArray) throw new FurnaceFormatException(path, $"{what} is not an array");
        var values = new List<long>();
        while (Next(ref r) != JsonTokenType.EndArray)
        {
            if (r.TokenType == JsonTokenType.Number && r.TryGetUInt64(out ulong u) && u > long.MaxValue)
                throw new FurnaceFormatException(path, $"{what} value {u} is out of range");
            if (r.TokenType != JsonTokenType.Number || !r.TryGetInt64(out long v) || v < 0)
                throw new FurnaceFormatException(path, $"{what} holds {Token(ref r)}, not a non-negative integer");
            values.Add(v);
        }
        return values.ToArray();
    }

    private static string Token(ref Utf8JsonReader r)
    {
        string s = r.TokenType is JsonTokenType.StartArray or JsonTokenType.StartObject ? r.TokenType.ToString() : System.Text.Encoding.UTF8.GetString(r.ValueSpan);
        return s.Length > 40 ? s[..40] + "…" : s;
    }
}
