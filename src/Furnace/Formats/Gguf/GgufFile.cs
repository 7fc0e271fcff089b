// Reader of GGUF v2/v3 files (llama.cpp's checkpoint format; gguf.h / docs/gguf.md of ggml):
//   "GGUF" u32 version, u64 tensor_count, u64 kv_count, kv pairs, tensor infos, padding, tensor data.
// The file is memory-mapped; tensor data is used in place. Every length and offset is checked against the
// file size before it is trusted, so a corrupt or truncated file gives a FurnaceFormatException naming
// the field, never an out-of-range read or a huge allocation.
using System.Buffers.Binary;
using System.Text;
using Furnace.Formats.Weights;
using Furnace.IO;
using Furnace.Tensors;

namespace Furnace.Formats.Gguf;

public sealed class GgufFile : ITensorSource
{
    public const uint Magic = 0x46554747; // "GGUF" little-endian
    public const int DefaultAlignment = 32;
    private const int MaxDims = 4;

    private readonly Dictionary<string, GgufTensorInfo> _byName;

    private GgufFile(MappedFile map, uint version, Dictionary<string, GgufValue> metadata, List<string> keyOrder,
        List<GgufTensorInfo> tensors, long dataOffset, int alignment)
    {
        Map = map;
        Version = version;
        Metadata = metadata;
        MetadataKeys = keyOrder;
        Tensors = tensors;
        DataOffset = dataOffset;
        Alignment = alignment;
        _byName = new Dictionary<string, GgufTensorInfo>(StringComparer.Ordinal);
        foreach (var t in tensors) _byName[t.Name] = t;
    }

    public string Path => Map.Path;

    public MappedFile Map { get; }

    public uint Version { get; }

    public IReadOnlyDictionary<string, GgufValue> Metadata { get; }

    /// <summary>Metadata keys in file order.</summary>
    public IReadOnlyList<string> MetadataKeys { get; }

    public IReadOnlyList<GgufTensorInfo> Tensors { get; }

    public long DataOffset { get; }

    public int Alignment { get; }

    public string? Architecture => GetString("general.architecture");

    public static GgufFile Open(string path) => MappedInput.Parse(path, Parse);

    /// <summary>True if the file starts with the GGUF magic.</summary>
    public static bool HasMagic(string path)
    {
        using var fs = File.OpenRead(path);
        Span<byte> b = stackalloc byte[4];
        return fs.ReadAtLeast(b, 4, throwOnEndOfStream: false) == 4 && BinaryPrimitives.ReadUInt32LittleEndian(b) == Magic;
    }

    private static GgufFile Parse(MappedFile map)
    {
        var r = new Cursor(map);
        uint magic = r.U32("magic");
        if (magic != Magic) throw r.Error("not a GGUF file (bad magic)");
        uint version = r.U32("version");
        if (version is not (2 or 3)) throw r.Error($"unsupported GGUF version {version} (2 and 3 are supported)");
        ulong tensorCount = r.U64("tensor_count");
        ulong kvCount = r.U64("kv_count");
        // each kv needs at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 8+4+8+4+8
        if (kvCount > (ulong)map.Length / 13) throw r.Error($"kv_count {kvCount} is larger than the file can hold");
        if (tensorCount > (ulong)map.Length / 32) throw r.Error($"tensor_count {tensorCount} is larger than the file can hold");

        var metadata = new Dictionary<string, GgufValue>(StringComparer.Ordinal);
        var order = new List<string>((int)Math.Min(kvCount, 1 << 16)); // counts can exceed int for huge files: no capacity from them
        for (ulong i = 0; i < kvCount; i++)
        {
            string key = r.String($"key of metadata entry {i}");
            var type = (GgufValueType)r.U32($"type of '{key}'");
            GgufValue value = r.Value(type, key, depth: 0);
            if (!metadata.TryAdd(key, value)) throw r.Error($"duplicate metadata key '{key}'");
            order.Add(key);
        }

        int alignment = DefaultAlignment;
        if (metadata.TryGetValue("general.alignment", out var al))
        {
            long a = al.AsInt64() ?? -1;
            if (a <= 0 || a > 1 << 20 || (a & (a - 1)) != 0) throw r.Error($"general.alignment {al} is not a power of two");
            alignment = (int)a;
        }

        var infos = new List<(string Name, long[] Shape, DType Type, ulong Offset)>((int)Math.Min(tensorCount, 1 << 16));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (ulong i = 0; i < tensorCount; i++)
        {
            string name = r.String($"name of tensor {i}");
            if (!seen.Add(name)) throw r.Error($"duplicate tensor '{name}'");
            uint nDims = r.U32($"n_dims of tensor '{name}'");
            if (nDims is 0 or > MaxDims) throw r.Error($"tensor '{name}' has {nDims} dimensions (1..{MaxDims} allowed)");
            var shape = new long[nDims];
            long elements = 1;
            for (int d = 0; d < nDims; d++)
            {
                ulong ne = r.U64($"dimension {d} of tensor '{name}'");
                if (ne == 0 || ne > (ulong)map.Length * 2 + 64) throw r.Error($"tensor '{name}' dimension {d} = {ne} is impossible for this file");
                shape[d] = (long)ne;
                if (elements > long.MaxValue / (long)ne) throw r.Error($"tensor '{name}' shape overflows");
                elements *= (long)ne;
            }
            uint rawType = r.U32($"type of tensor '{name}'");
            // the stored weight types this build reads and runs (grows as kernels land; Q8_K/Q8_1 are activation-only)
            if (rawType is not (0 or 1 or 2 or 3 or 6 or 7 or 8 or 10 or 11 or 12 or 13 or 14 or 20 or 23 or 30))
                throw r.Error($"tensor '{name}' has ggml type {rawType}, which Furnace does not support (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K..q6_K, iq4_nl, iq4_xs)");
            var type = (DType)rawType;
            if (shape[0] % DTypes.BlockSize(type) != 0) throw r.Error($"tensor '{name}' row length {shape[0]} is not a multiple of the {DTypes.Name(type)} block size");
            ulong offset = r.U64($"offset of tensor '{name}'");
            if (offset % (ulong)alignment != 0) throw r.Error($"tensor '{name}' offset {offset} is not aligned to {alignment}");
            infos.Add((name, shape, type, offset));
        }

        long dataOffset = AlignUp(r.Position, alignment);
        var tensors = new List<GgufTensorInfo>(infos.Count);
        foreach (var (name, shape, type, offset) in infos)
        {
            if (offset > (ulong)map.Length) throw r.Error($"tensor '{name}' data offset {offset} lies beyond the end of the file (truncated?)");
            var t = new GgufTensorInfo(name, shape, type, dataOffset + (long)offset);
            if (!map.Contains(t.Offset, t.ByteLength))
                throw new FurnaceFormatException(map.Path, $"tensor '{name}' ({t.ShapeText} {DTypes.Name(type)}, {t.ByteLength} bytes at {t.Offset}) extends beyond the end of the file of {map.Length} bytes (truncated?)");
            tensors.Add(t);
        }
        return new GgufFile(map, version, metadata, order, tensors, dataOffset, alignment);
    }

    public static long AlignUp(long x, int alignment) => (x + alignment - 1) / alignment * alignment;

    public GgufTensorInfo? FindTensor(string name) => _byName.GetValueOrDefault(name);

    public string? GetString(string key) => Metadata.TryGetValue(key, out var v) ? v.Value as string : null;

    public long? GetInt(string key) => Metadata.TryGetValue(key, out var v) ? v.AsInt64() : null;

    public double? GetFloat(string key) => Metadata.TryGetValue(key, out var v) ? v.AsDouble() : null;

    public T[]? GetArray<T>(string key) => Metadata.TryGetValue(key, out var v) ? v.Value as T[] : null;

    public IEnumerable<TensorEntry> Entries => Tensors.Select(ToEntry);

    public TensorEntry? Find(string name) => _byName.TryGetValue(name, out var t) ? ToEntry(t) : null;

    // ggml's ne[] lists the contiguous dimension first; TensorEntry is outermost first.
    private TensorEntry ToEntry(GgufTensorInfo t) => new(t.Name, t.Shape.Reverse().ToArray(), t.Type, Map, t.Offset);

    public void Dispose() => Map.Dispose();

    private sealed class Cursor(MappedFile map)
    {
        private const int MaxStringBytes = 1 << 26;

        public long Position { get; private set; }

        public FurnaceFormatException Error(string problem) => new(map.Path, problem);

        private ReadOnlySpan<byte> Take(int n, string what)
        {
            if (!map.Contains(Position, n)) throw Error($"truncated at byte {Position} while reading {what}");
            var s = map.Span(Position, n);
            Position += n;
            return s;
        }

        public uint U32(string what) => BinaryPrimitives.ReadUInt32LittleEndian(Take(4, what));

        public ulong U64(string what) => BinaryPrimitives.ReadUInt64LittleEndian(Take(8, what));

        public string String(string what)
        {
            ulong len = U64(what);
            if (len > MaxStringBytes || !map.Contains(Position, (long)len)) throw Error($"{what}: string length {len} runs past the end of the file");
            var bytes = Take((int)len, what);
            try
            {
                return Strict.GetString(bytes);
            }
            catch (DecoderFallbackException)
            {
                throw Error($"{what}: string is not valid UTF-8");
            }
        }

        private static readonly UTF8Encoding Strict = new(false, true);

        public GgufValue Value(GgufValueType type, string key, int depth)
        {
            switch (type)
            {
                case GgufValueType.UInt8: return new(type, Take(1, key)[0]);
                case GgufValueType.Int8: return new(type, (sbyte)Take(1, key)[0]);
                case GgufValueType.UInt16: return new(type, BinaryPrimitives.ReadUInt16LittleEndian(Take(2, key)));
                case GgufValueType.Int16: return new(type, BinaryPrimitives.ReadInt16LittleEndian(Take(2, key)));
                case GgufValueType.UInt32: return new(type, U32(key));
                case GgufValueType.Int32: return new(type, BinaryPrimitives.ReadInt32LittleEndian(Take(4, key)));
                case GgufValueType.Float32: return new(type, BinaryPrimitives.ReadSingleLittleEndian(Take(4, key)));
                case GgufValueType.Bool:
                    byte b = Take(1, key)[0];
                    if (b > 1) throw Error($"'{key}': bool value {b} is neither 0 nor 1");
                    return new(type, b == 1);
                case GgufValueType.String: return new(type, String($"value of '{key}'"));
                case GgufValueType.UInt64: return new(type, U64(key));
                case GgufValueType.Int64: return new(type, BinaryPrimitives.ReadInt64LittleEndian(Take(8, key)));
                case GgufValueType.Float64: return new(type, BinaryPrimitives.ReadDoubleLittleEndian(Take(8, key)));
                case GgufValueType.Array:
                    if (depth > 2) throw Error($"'{key}': arrays nested too deeply");
                    var et = (GgufValueType)U32($"element type of '{key}'");
                    ulong n = U64($"length of '{key}'");
                    // bound by the smallest encoding of one element, so a corrupt length never sizes a huge allocation
                    if (n > (ulong)(map.Length - Position) / MinElementBytes(et) || n > int.MaxValue)
                        throw Error($"'{key}': array length {n} runs past the end of the file");
                    return new(type, Array(et, (int)n, key, depth), et);
                default:
                    throw Error($"'{key}' has unknown value type {(uint)type}");
            }
        }

        private static ulong MinElementBytes(GgufValueType et) => et switch
        {
            GgufValueType.UInt16 or GgufValueType.Int16 => 2,
            GgufValueType.UInt32 or GgufValueType.Int32 or GgufValueType.Float32 => 4,
            GgufValueType.UInt64 or GgufValueType.Int64 or GgufValueType.Float64 or GgufValueType.String => 8,
            GgufValueType.Array => 12,
            _ => 1,
        };

        private object Array(GgufValueType et, int n, string key, int depth)
        {
            switch (et)
            {
                case GgufValueType.UInt8: return Take(n, key).ToArray();
                case GgufValueType.Int8: return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, sbyte>(Take(n, key)).ToArray();
                case GgufValueType.UInt16: return Fixed<ushort>(n, 2, key, BinaryPrimitives.ReadUInt16LittleEndian);
                case GgufValueType.Int16: return Fixed<short>(n, 2, key, BinaryPrimitives.ReadInt16LittleEndian);
                case GgufValueType.UInt32: return Fixed<uint>(n, 4, key, BinaryPrimitives.ReadUInt32LittleEndian);
                case GgufValueType.Int32: return Fixed<int>(n, 4, key, BinaryPrimitives.ReadInt32LittleEndian);
                case GgufValueType.Float32: return Fixed<float>(n, 4, key, BinaryPrimitives.ReadSingleLittleEndian);
                case GgufValueType.UInt64: return Fixed<ulong>(n, 8, key, BinaryPrimitives.ReadUInt64LittleEndian);
                case GgufValueType.Int64: return Fixed<long>(n, 8, key, BinaryPrimitives.ReadInt64LittleEndian);
                case GgufValueType.Float64: return Fixed<double>(n, 8, key, BinaryPrimitives.ReadDoubleLittleEndian);
                case GgufValueType.Bool:
                    var bytes = Take(n, key);
                    var bools = new bool[n];
                    for (int i = 0; i < n; i++) bools[i] = bytes[i] != 0;
                    return bools;
                case GgufValueType.String:
                    var strings = new string[n];
                    for (int i = 0; i < n; i++) strings[i] = String($"element {i} of '{key}'");
                    return strings;
                case GgufValueType.Array:
                    var arrays = new GgufValue[n];
                    for (int i = 0; i < n; i++) arrays[i] = Value(GgufValueType.Array, key, depth + 1);
                    return arrays;
                default:
                    throw Error($"'{key}': unknown array element type {(uint)et}");
            }
        }

        private delegate T ReadOne<T>(ReadOnlySpan<byte> s);

        private T[] Fixed<T>(int n, int size, string key, ReadOne<T> read)
        {
            if ((long)n * size > map.Length - Position) throw Error($"'{key}': array of {n} elements runs past the end of the file");
            var src = Take(n * size, key);
            var a = new T[n];
            for (int i = 0; i < n; i++) a[i] = read(src.Slice(i * size, size));
            return a;
        }
    }
}
