// `furnace lora merge`: a base checkpoint + a LoRA adapter -> a merged checkpoint (PEFT's merge_and_unload +
// save_pretrained), W' = W + s·B·A on every adapted weight with the same kernel as the load-time merge (LowRank), in the
// weight's stored dtype. Outputs:
//   - a Hugging Face directory (base: an HF LlamaForCausalLM / Qwen2ForCausalLM or LLaVA directory): one
//     model.safetensors holding every base tensor (merged ones re-encoded in their dtype, the rest copied byte for byte),
//     plus every other top-level file of the base (config.json, tokenizer files, preprocessor_config.json, …);
//   - a GGUF file (base: an HF decoder directory, written as `furnace convert` does with --type, or a GGUF file, whose
//     metadata and tensors are copied and whose adapted matrices are re-encoded in their own type).
// Output is atomic: a directory is assembled beside the target and renamed into place, a file goes through AtomicFile;
// on any error nothing is left behind.
using Furnace.Formats.Gguf;
using Furnace.Formats.HfConfig;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Tokenizers;
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Models.Lora;

public static class LoraCheckpointMerge
{
    // weight files of a base directory that are not copied to the merged one
    private static readonly string[] WeightSuffixes = [".safetensors", ".safetensors.index.json", ".bin", ".bin.index.json", ".pt", ".pth", ".gguf", ".h5", ".msgpack", ".ckpt"];

    // llama.cpp's names of the decoder linears (blk.N.<name>.weight) -> PEFT's
    private static readonly Dictionary<string, string> GgufLinears = new(StringComparer.Ordinal)
    {
        ["attn_q"] = "q_proj", ["attn_k"] = "k_proj", ["attn_v"] = "v_proj", ["attn_output"] = "o_proj",
        ["ffn_gate"] = "gate_proj", ["ffn_up"] = "up_proj", ["ffn_down"] = "down_proj",
    };

    /// <summary>
    /// Merges into <paramref name="output"/>: a GGUF file when it ends in .gguf, else a new HF directory (which must not
    /// exist yet). type: GGUF output from an HF base only (null: the base's dtype). Returns the number of merged weights.
    /// </summary>
    public static int Merge(string basePath, LoraAdapter adapter, string output, float scaleMultiplier = 1f, DType? type = null,
        KernelContext? ctx = null, Action<string>? progress = null)
    {
        if (!float.IsFinite(scaleMultiplier)) throw new FurnaceException($"LoRA scale {scaleMultiplier} must be finite");
        bool toGguf = output.EndsWith(".gguf", StringComparison.OrdinalIgnoreCase);
        DeepSeekLora.RefuseCheckpointWrite(basePath, "merge");
        if (File.Exists(basePath))
        {
            if (!GgufFile.HasMagic(basePath)) throw new FurnaceFormatException(basePath, "not a GGUF file (give a .gguf file or a Hugging Face model directory)");
            if (!toGguf) throw new FurnaceException($"{output}: a GGUF base merges into a GGUF file (give an output ending in .gguf)");
            if (type != null) throw new FurnaceException("--type applies to a Hugging Face base only (a GGUF base keeps each tensor's type)");
            return GgufToGguf(basePath, adapter, output, scaleMultiplier, ctx, progress);
        }
        if (!Directory.Exists(basePath)) throw new FurnaceException($"{basePath}: no such file or directory");
        string configPath = Path.Combine(basePath, "config.json");
        if (!File.Exists(configPath)) throw new FurnaceException($"{basePath}: no config.json (not a Hugging Face model directory)");
        bool llava = IsLlava(configPath);
        LlamaConfig c = llava ? LlavaConfig.FromHuggingFace(basePath).Text : LlamaConfig.FromHuggingFace(configPath);
        adapter.CheckAgainst(c, basePath);
        if (toGguf)
        {
            if (llava) throw new FurnaceException($"{basePath}: a LLaVA model merges into a Hugging Face directory only (give an output directory; convert the decoder and the mmproj afterwards)");
            return HfToGguf(basePath, c, adapter, output, scaleMultiplier, type, ctx, progress);
        }
        if (type != null) throw new FurnaceException("--type applies to GGUF output only (a merged Hugging Face directory keeps each tensor's dtype)");
        return HfToHf(basePath, adapter, output, scaleMultiplier, ctx, progress);
    }

    private static bool IsLlava(string configPath)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(configPath));
            return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && doc.RootElement.TryGetProperty("vision_config", out _);
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new FurnaceFormatException(configPath, $"not valid JSON ({e.Message})");
        }
    }

    private static Dictionary<(int, string), LoraModuleWeights> ByLayer(LoraAdapter adapter)
    {
        var d = new Dictionary<(int, string), LoraModuleWeights>();
        foreach (var (path, m) in adapter.Modules)
        {
            var p = LoraModules.Parse(path) ?? throw new FurnaceException($"LoRA module '{path}' is not a decoder linear");
            if (!d.TryAdd((p.Layer, p.Name), m)) throw new FurnaceException($"two LoRA modules adapt layer {p.Layer} {p.Name} (under different prefixes)");
        }
        return d;
    }

    private static void CheckAllUsed(Dictionary<(int, string), LoraModuleWeights> byLayer, HashSet<(int, string)> used, string basePath)
    {
        var missing = byLayer.Keys.Where(k => !used.Contains(k)).Select(k => $"layer {k.Item1} {k.Item2}").ToList();
        if (missing.Count > 0) throw new FurnaceException($"{basePath}: the base has no weight for LoRA module(s) {string.Join(", ", missing.Take(5))}");
    }

    // W (rows, cols) in its stored dtype -> merged bytes in outType
    private static NativeBuffer Merged(WeightMatrix w, LoraModuleWeights m, float[] b, float scale, DType outType, KernelContext? ctx) =>
        LowRank.AddLowRank(w, m.A, b, m.Rank, scale, outType, ctx, out _);

    private static int HfToHf(string baseDir, LoraAdapter adapter, string outDir, float multiplier, KernelContext? ctx, Action<string>? progress)
    {
        string full = Path.GetFullPath(outDir);
        if (Directory.Exists(full) || File.Exists(full)) throw new FurnaceException($"{outDir}: already exists (the merged model goes to a new directory)");
        string parent = Path.GetDirectoryName(full) ?? ".";
        if (!Directory.Exists(parent)) throw new FurnaceException($"{outDir}: directory {parent} does not exist");
        var byLayer = ByLayer(adapter);
        var used = new HashSet<(int, string)>();
        float scale = adapter.Config.Scale * multiplier;
        string tmp = Path.Combine(parent, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        Directory.CreateDirectory(tmp);
        try
        {
            using var source = SafeTensorsCheckpoint.Open(baseDir);
            var (infos, fileOf) = source switch
            {
                SafeTensorsFile f => (f.Tensors.ToList(), (Func<string, SafeTensorsFile>)(_ => f)),
                ShardedSafeTensors s => (s.Tensors.ToList(), n => s.ShardOf(n)!),
                _ => throw new InvalidOperationException("unknown safetensors source"),
            };
            var w = new SafeTensorsWriter().AddMetadata("format", "pt");
            int i = 0;
            foreach (var t in infos)
            {
                var file = fileOf(t.Name);
                var info = t;
                int index = ++i;
                (int, string)? key = t.Name.EndsWith(".weight", StringComparison.Ordinal) ? LoraModules.Parse(t.Name[..^".weight".Length]) : null;
                if (key is { } k && byLayer.TryGetValue(k, out var m))
                {
                    used.Add(k);
                    DType dt = t.Type ?? throw new FurnaceFormatException(file.Path, $"tensor '{t.Name}' has dtype {t.DTypeName}, which cannot be merged (F32, F16, BF16)");
                    if (t.Shape.Length != 2 || t.Shape[0] != m.OutFeatures || t.Shape[1] != m.InFeatures)
                        throw new FurnaceFormatException(file.Path, $"tensor '{t.Name}' has shape {t.ShapeText} but its LoRA factors make [{m.OutFeatures}, {m.InFeatures}]");
                    w.AddStreamed(t.Name, t.DTypeName, t.Shape, t.ByteLength, s =>
                    {
                        progress?.Invoke($"tensor {index}/{infos.Count} {info.Name} (merged)");
                        var wm = file.Map.Matrix(info.Offset, m.OutFeatures, m.InFeatures, dt);
                        using var buf = Merged(wm, m, m.B, scale, dt, ctx);
                        s.Write(buf.Bytes);
                    });
                }
                else
                {
                    w.AddStreamed(t.Name, t.DTypeName, t.Shape, t.ByteLength, s =>
                    {
                        progress?.Invoke($"tensor {index}/{infos.Count} {info.Name}");
                        CopyBytes(file.Map, info.Offset, info.ByteLength, s);
                    });
                }
            }
            CheckAllUsed(byLayer, used, baseDir);
            w.Write(Path.Combine(tmp, SafeTensorsCheckpoint.SingleFileName));
            foreach (string f in Directory.EnumerateFiles(baseDir))
            {
                string name = Path.GetFileName(f);
                if (WeightSuffixes.Any(x => name.EndsWith(x, StringComparison.OrdinalIgnoreCase))) continue;
                File.Copy(f, Path.Combine(tmp, name));
            }
            Directory.Move(tmp, full);
            return used.Count;
        }
        catch
        {
            try
            {
                Directory.Delete(tmp, recursive: true);
            }
            catch (IOException)
            {
            }
            throw;
        }
    }

    private static void CopyBytes(MappedFile map, long offset, long length, Stream s)
    {
        const int chunk = 1 << 24;
        for (long done = 0; done < length; done += chunk)
            s.Write(map.Span(offset + done, (int)Math.Min(chunk, length - done)));
    }

    private static int HfToGguf(string baseDir, LlamaConfig c, LoraAdapter adapter, string output, float multiplier, DType? type,
        KernelContext? ctx, Action<string>? progress)
    {
        string tokenizerPath = Path.Combine(baseDir, "tokenizer.json");
        if (!File.Exists(tokenizerPath)) throw new FurnaceException($"{baseDir}: no tokenizer.json (a GGUF file carries the vocabulary)");
        var vocab = Tokenizer.FromHuggingFace(tokenizerPath).ToGgufMetadata(c.VocabSize);
        var byLayer = ByLayer(adapter);
        var used = new HashSet<(int, string)>();
        float scale = adapter.Config.Scale * multiplier;
        using var source = SafeTensorsCheckpoint.Open(baseDir);
        var names = LlamaTensorNames.All(c).ToList();
        foreach (var t in names)
        {
            var e = source.Find(t.Hf) ?? throw new FurnaceFormatException(source.Path, $"missing tensor '{t.Hf}'");
            if (!e.Shape.SequenceEqual(t.Shape))
                throw new FurnaceFormatException(source.Path, $"tensor '{t.Hf}' has shape {e.ShapeText}, expected [{string.Join(", ", t.Shape)}]");
            if (t.Hf.EndsWith(".weight", StringComparison.Ordinal) && LoraModules.Parse(t.Hf[..^7]) is { } k && byLayer.ContainsKey(k)) used.Add(k);
        }
        CheckAllUsed(byLayer, used, baseDir);
        DType outType = type ?? source.Find("model.layers.0.self_attn.q_proj.weight")!.Type;
        int done = 0;
        float[] Read(string hf)
        {
            progress?.Invoke($"tensor {++done}/{names.Count} {hf}");
            var e = source.Find(hf)!;
            if (hf.EndsWith(".weight", StringComparison.Ordinal) && LoraModules.Parse(hf[..^7]) is { } k && byLayer.TryGetValue(k, out var m))
            {
                var wm = e.File.Matrix(e.Offset, m.OutFeatures, m.InFeatures, e.Type);
                using var buf = Merged(wm, m, m.B, scale, DType.F32, ctx);
                return System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(buf.Bytes).ToArray();
            }
            return e.File.ReadFloats(e.Offset, checked((int)e.ElementCount), e.Type);
        }
        string name = Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(baseDir))) is { Length: > 0 } n ? n : "model";
        LlamaGgufExport.Write(output, c, Read, outType, vocab, name + "-lora-merged");
        return used.Count;
    }

    private static int GgufToGguf(string basePath, LoraAdapter adapter, string output, float multiplier, KernelContext? ctx, Action<string>? progress)
    {
        using var f = GgufFile.Open(basePath);
        LlamaConfig c = LlamaConfig.FromGguf(f);
        adapter.CheckAgainst(c, basePath);
        bool permuted = c.Architecture == "llama";
        var byLayer = ByLayer(adapter);
        var used = new HashSet<(int, string)>();
        float scale = adapter.Config.Scale * multiplier;
        var w = new GgufWriter();
        foreach (string key in f.MetadataKeys) w.Add(key, f.Metadata[key]);
        int i = 0;
        foreach (var t in f.Tensors)
        {
            var info = t;
            int index = ++i;
            string[] parts = t.Name.Split('.');
            LoraModuleWeights? m = null;
            if (parts is ["blk", var layer, var lin, "weight"] && GgufLinears.TryGetValue(lin, out var peft)
                && int.TryParse(layer, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int li)
                && byLayer.TryGetValue((li, peft), out m))
            {
                used.Add((li, peft));
                if (t.Shape.Length != 2 || t.Shape[1] != m.OutFeatures || t.Shape[0] != m.InFeatures)
                    throw new FurnaceFormatException(basePath, $"tensor '{t.Name}' has ggml shape {t.ShapeText} but its LoRA factors make [{m.InFeatures}, {m.OutFeatures}]");
                int heads = !permuted ? 0 : peft == "q_proj" ? c.Heads : peft == "k_proj" ? c.KvHeads : 0;
                float[] b = heads > 0 ? LlamaTensorNames.PermuteRows(m.B, m.OutFeatures, heads) : m.B;
                var mw = m;
                w.AddTensor(t.Name, t.Type, t.Shape, t.ByteLength, s =>
                {
                    progress?.Invoke($"tensor {index}/{f.Tensors.Count} {info.Name} (merged)");
                    var wm = f.Map.Matrix(info.Offset, mw.OutFeatures, mw.InFeatures, info.Type);
                    using var buf = Merged(wm, mw, b, scale, info.Type, ctx);
                    s.Write(buf.Bytes);
                });
            }
            else
            {
                w.AddTensor(t.Name, t.Type, t.Shape, t.ByteLength, s =>
                {
                    progress?.Invoke($"tensor {index}/{f.Tensors.Count} {info.Name}");
                    CopyBytes(f.Map, info.Offset, info.ByteLength, s);
                });
            }
        }
        CheckAllUsed(byLayer, used, basePath);
        w.Write(output);
        return used.Count;
    }
}
