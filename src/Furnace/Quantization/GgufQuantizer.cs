// Whole-file quantization of a GGUF as llama.cpp's llama_model_quantize does it (src/llama-quant.cpp,
// llama_model_quantize_impl, as bundled by LLamaSharp 0.30.0 / ggml 050fc7f): tensors in the loader's order, each
// quantizable tensor re-encoded to QuantRecipe's type row by row (ggml_quantize_chunk semantics, with the importance
// vector of its expert slice when an imatrix is given), everything else copied; metadata copied with
// general.quantization_version = 2 and general.file_type = the recipe's llama_ftype id appended. Rows spread over
// threads; at most ~64 MB of one tensor's output is held at once. The output is written atomically (temp file + rename).
using Furnace.Formats.Gguf;
using Furnace.Tensors;

namespace Furnace.Quantization;

public sealed record QuantizeOptions(QuantFileType FileType)
{
    /// <summary>--pure: every quantizable tensor gets the default type (no recipe rules, no fallback).</summary>
    public bool Pure { get; init; }

    public ImportanceMatrix? Imatrix { get; init; }

    /// <summary>Threads that encode rows; 0 = all cores.</summary>
    public int Threads { get; init; }

    /// <summary>llama.cpp's quantize_output_tensor (default on; --leave-output-tensor turns it off).</summary>
    public bool QuantizeOutput { get; init; } = true;

    /// <summary>Extra metadata appended after the copied keys (the CLI records the imatrix here, as llama-quantize does).</summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> ExtraMetadata { get; init; } = [];

    /// <summary>Tensors encoded elsewhere (GPTQ) by GGUF name, written instead of the RTN encoding when their type is the planned one.</summary>
    public IReadOnlyDictionary<string, Models.Llama.EncodedTensor>? PreEncoded { get; init; }
}

/// <summary>What a quantization did: bytes of tensor data before/after, weights, and tensors per stored type.</summary>
public sealed record QuantizeSummary(long BytesBefore, long BytesAfter, long Elements, IReadOnlyDictionary<DType, int> TensorsPerType, int ImatrixUsed, IReadOnlyList<string> ImatrixMissing)
{
    public double BitsPerWeight => Elements == 0 ? 0 : BytesAfter * 8.0 / Elements;
}

/// <summary>A tensor of the input with its planned output type.</summary>
public sealed record QuantPlanEntry(GgufTensorInfo Source, DType Type)
{
    public bool Reencode => Type != Source.Type;
}

public static class GgufQuantizer
{
    private const long GroupBytes = 64L << 20;

    /// <summary>The model shape the recipe needs, from the GGUF's {arch}.* keys.</summary>
    public static QuantModelShape ShapeOf(GgufFile f)
    {
        string arch = f.Architecture ?? throw new FurnaceFormatException(f.Path, "no general.architecture: not a model GGUF");
        int Int(string key, int fallback)
        {
            if (!f.Metadata.TryGetValue($"{arch}.{key}", out var v)) return fallback;
            if (v.AsInt64() is long x) return (int)x;
            return v.Value is Array a && a.Length > 0 ? (int)(new GgufValue(v.ElementType, a.GetValue(0)!).AsInt64() ?? fallback) : fallback;
        }
        int heads = Int("attention.head_count", 0);
        return new QuantModelShape(arch, Int("block_count", 0), heads, Int("attention.head_count_kv", heads), Int("expert_count", 0));
    }

    /// <summary>Every tensor of f in llama.cpp's order with the type the recipe gives it; checks what must hold before writing.</summary>
    public static List<QuantPlanEntry> Plan(GgufFile f, QuantizeOptions o)
    {
        var ordered = QuantRecipe.OrderOf(f.Tensors, t => t.Name);
        var recipe = new QuantRecipe(o.FileType, ShapeOf(f), o.Pure, o.Imatrix != null, o.QuantizeOutput);
        DType[] types = recipe.Plan(ordered.Select(t => new QuantTensor(t.Name, t.Shape, t.Type)).ToList());
        var plan = ordered.Select((t, i) => new QuantPlanEntry(t, types[i])).ToList();
        foreach (var e in plan.Where(e => e.Reencode))
        {
            if (DTypes.IsQuantized(e.Source.Type))
                throw new FurnaceException($"{f.Path}: input already quantized (tensor '{e.Source.Name}' is {DTypes.Name(e.Source.Type)}); quantize from an F32, F16 or BF16 file");
        }
        if (o.Imatrix is { } im) CheckImatrix(f, plan, im);
        return plan;
    }

    // an imatrix entry must name a tensor of this model and hold ne[0] values per expert
    private static void CheckImatrix(GgufFile f, List<QuantPlanEntry> plan, ImportanceMatrix im)
    {
        foreach (var (name, v) in im.Values)
        {
            var t = f.FindTensor(name) ?? throw new FurnaceException($"imatrix entry '{name}' names no tensor of {Path.GetFileName(f.Path)}: computed for another model?");
            long want = t.Shape[0] * (t.Shape.Length > 2 ? t.Shape[2] : 1);
            if (v.Length != want)
                throw new FurnaceException($"imatrix entry '{name}' holds {v.Length} values, tensor {t.ShapeText} needs {want}: computed for another model?");
        }
    }

    public static QuantizeSummary Quantize(string input, string output, QuantizeOptions o, Action<long, long, string>? progress = null)
    {
        using var f = GgufFile.Open(input);
        var plan = Plan(f, o);
        int threads = o.Threads > 0 ? o.Threads : Environment.ProcessorCount;

        var w = new GgufWriter();
        foreach (string key in f.MetadataKeys)
        {
            if (key is "general.quantization_version" or "general.file_type" || key.StartsWith("split.", StringComparison.Ordinal)) continue;
            w.Add(key, f.Metadata[key]);
        }
        w.Add("general.quantization_version", 2u);
        w.Add("general.file_type", (uint)o.FileType);
        foreach (var (k, v) in o.ExtraMetadata) w.Add(k, v);

        long total = plan.Where(e => e.Reencode).Sum(e => e.Source.ElementCount), done = 0;
        long before = 0, after = 0, elements = 0;
        var perType = new Dictionary<DType, int>();
        var missing = new List<string>();
        int used = 0;
        foreach (var e in plan)
        {
            var src = e.Source;
            long bytes = DTypes.RowBytes(e.Type, src.Shape[0]) * (src.ElementCount / src.Shape[0]);
            before += src.ByteLength;
            after += bytes;
            elements += src.ElementCount;
            perType[e.Type] = perType.GetValueOrDefault(e.Type) + 1;
            if (!e.Reencode)
            {
                w.AddTensor(src.Name, src.Type, src.Shape, bytes, s => Copy(f, src, s));
                continue;
            }
            if (o.PreEncoded != null && o.PreEncoded.TryGetValue(src.Name, out var pre))
            {
                if (pre.Type != e.Type)
                    throw new FurnaceException($"pre-encoded tensor '{src.Name}' is {DTypes.Name(pre.Type)}; the plan wants {DTypes.Name(e.Type)}");
                long n = src.ElementCount;
                w.AddTensor(src.Name, e.Type, src.Shape, bytes, s =>
                {
                    byte[] data = pre.Bytes();
                    if (data.LongLength != bytes)
                        throw new FurnaceException($"pre-encoded tensor '{src.Name}' holds {data.LongLength} bytes; {DTypes.Name(e.Type)} {string.Join("x", src.Shape)} needs {bytes}");
                    s.Write(data);
                    done += n;
                    progress?.Invoke(done, total, src.Name);
                });
                continue;
            }
            float[]? importance = null;
            if (o.Imatrix != null && DTypes.IsQuantized(e.Type))
            {
                if (o.Imatrix.Values.TryGetValue(src.Name, out importance)) used++;
                else missing.Add(src.Name);
            }
            w.AddTensor(src.Name, e.Type, src.Shape, bytes, s =>
            {
                Encode(f, src, e.Type, importance, threads, s, n =>
                {
                    done += n;
                    progress?.Invoke(done, total, src.Name);
                });
            });
        }
        w.Write(output);
        return new QuantizeSummary(before, after, elements, perType, used, missing);
    }

    private static void Copy(GgufFile f, GgufTensorInfo t, Stream s)
    {
        for (long off = 0; off < t.ByteLength; off += 1 << 30)
            s.Write(f.Map.Span(t.Offset + off, (int)Math.Min(1 << 30, t.ByteLength - off)));
    }

    // t's float rows (F32/F16/BF16) -> type, a group of rows at a time, each group's rows split over threads;
    // importance (ne0 × ne2) gives each expert slice its own ne0 weights
    private static void Encode(GgufFile f, GgufTensorInfo t, DType type, float[]? importance, int threads, Stream s, Action<long> advanced)
    {
        int n = checked((int)t.Shape[0]);
        long rows = t.ElementCount / n, rowsPerSlice = t.Shape.Length > 1 ? t.Shape[1] : 1;
        long inRow = DTypes.RowBytes(t.Type, n), outRow = DTypes.RowBytes(type, n);
        int groupRows = (int)Math.Clamp(GroupBytes / Math.Max(outRow, n * 4L), 1, rows);
        var buf = new byte[groupRows * outRow];
        var po = new ParallelOptions { MaxDegreeOfParallelism = threads };
        for (long r0 = 0; r0 < rows; r0 += groupRows)
        {
            int nr = (int)Math.Min(groupRows, rows - r0);
            int chunk = Math.Max(1, (nr + threads * 4 - 1) / (threads * 4));
            Parallel.For(0, (nr + chunk - 1) / chunk, po, c =>
            {
                int a = c * chunk, b = Math.Min(nr, a + chunk);
                float[] x = f.Map.ReadFloats(t.Offset + (r0 + a) * inRow, (b - a) * n, t.Type);
                for (int r = a; r < b; r++)
                {
                    long expert = (r0 + r) / rowsPerSlice % (t.Shape.Length > 2 ? t.Shape[2] : 1);
                    ReadOnlySpan<float> qw = importance == null ? default : importance.AsSpan((int)(expert * n), n);
                    Tensors.Quantize.Row(buf.AsSpan((int)(r * outRow), (int)outRow), x.AsSpan((r - a) * n, n), type, qw);
                }
            });
            s.Write(buf, 0, (int)(nr * outRow));
            advanced((long)nr * n);
        }
    }
}
