// A LoRA adapter in PEFT's on-disk format (peft save_pretrained): a directory with adapter_config.json and
// adapter_model.safetensors holding, per adapted module, "base_model.model.<module>.lora_A.weight" (r, in) and
// "base_model.model.<module>.lora_B.weight" (out, r), where <module> is the module path in the base model
// ("model.layers.0.self_attn.q_proj" for LlamaForCausalLM, "language_model.model.layers.0.self_attn.q_proj" for
// LLaVA). Factors are held as float32; F16/BF16 files are widened on load. Save is atomic per file.
using Furnace.Formats.SafeTensors;
using Furnace.IO;
using Furnace.Models.Llama;
using Furnace.Tensors;

namespace Furnace.Models.Lora;

public sealed class LoraAdapter
{
    public const string WeightsFileName = "adapter_model.safetensors";

    private const string KeyPrefix = "base_model.model.";

    private readonly Dictionary<string, LoraModuleWeights> _modules;

    /// <summary>The adapter from its config and factors keyed by module path; every factor must have rank config.Rank.</summary>
    public LoraAdapter(LoraConfig config, IEnumerable<KeyValuePair<string, LoraModuleWeights>> modules)
    {
        Config = config;
        _modules = new Dictionary<string, LoraModuleWeights>(StringComparer.Ordinal);
        foreach (var (path, w) in modules)
        {
            if (w.Rank != config.Rank) throw new FurnaceException($"LoRA module '{path}': rank {w.Rank} differs from the config's r {config.Rank}");
            if (!_modules.TryAdd(path, w)) throw new FurnaceException($"LoRA module '{path}' given twice");
        }
        if (_modules.Count == 0) throw new FurnaceException("a LoRA adapter needs at least one module");
    }

    public LoraConfig Config { get; }

    /// <summary>Factors keyed by module path (no ".weight"), e.g. "model.layers.0.self_attn.q_proj".</summary>
    public IReadOnlyDictionary<string, LoraModuleWeights> Modules => _modules;

    /// <summary>Module paths in a stable order (ordinal).</summary>
    public IReadOnlyList<string> ModulePaths => _modules.Keys.Order(StringComparer.Ordinal).ToList();

    public long ParameterCount => _modules.Values.Sum(m => m.ParameterCount);

    public static string KeyA(string module) => $"{KeyPrefix}{module}.lora_A.weight";

    public static string KeyB(string module) => $"{KeyPrefix}{module}.lora_B.weight";

    /// <summary>
    /// A fresh adapter over every module of the decoder the config's targets select (PEFT's initialisation: B = 0),
    /// or with both factors random when <paramref name="randomB"/> (for tests). Prefix: see LoraModules.
    /// </summary>
    public static LoraAdapter Create(LoraConfig config, LlamaConfig decoder, int seed, string prefix = "", bool randomB = false)
    {
        var selected = LoraModules.Select(decoder, config.Targets, prefix);
        var unmatched = config.Targets.Unmatched(LoraModules.ForLlama(decoder, prefix).Select(m => m.Path).ToList()).ToList();
        if (unmatched.Count > 0 || selected.Count == 0)
            throw new FurnaceException($"LoRA target modules {string.Join(", ", unmatched.Count > 0 ? unmatched : config.Targets.Names)} match no linear layer of the model (its linears: {string.Join(", ", LoraModules.LayerLinears)})");
        return new LoraAdapter(config, selected.Select(m => KeyValuePair.Create(m.Path,
            randomB ? LoraModuleWeights.Random(m, config.Rank, seed) : LoraModuleWeights.Initial(m, config.Rank, seed))));
    }

    /// <summary>Writes dir/adapter_config.json and dir/adapter_model.safetensors (F32), creating dir; each file atomically.</summary>
    public void Save(string dir)
    {
        Directory.CreateDirectory(dir);
        var w = new SafeTensorsWriter().AddMetadata("format", "pt");
        foreach (var (path, m) in _modules)
        {
            w.Add(KeyA(path), [m.Rank, m.InFeatures], m.A);
            w.Add(KeyB(path), [m.OutFeatures, m.Rank], m.B);
        }
        w.Write(Path.Combine(dir, WeightsFileName));
        byte[] json = Config.ToJson();
        AtomicFile.Write(Path.Combine(dir, LoraConfig.FileName), s => s.Write(json));
    }

    /// <summary>Reads a PEFT LoRA directory, checking that every key is a lora_A/lora_B pair of consistent shape.</summary>
    public static LoraAdapter Load(string dir)
    {
        if (File.Exists(dir) && dir.EndsWith(".safetensors", StringComparison.Ordinal)) dir = Path.GetDirectoryName(Path.GetFullPath(dir))!;
        if (!Directory.Exists(dir)) throw new FurnaceException($"{dir}: LoRA adapter directory not found");
        var config = LoraConfig.Read(Path.Combine(dir, LoraConfig.FileName));
        string file = Path.Combine(dir, WeightsFileName);
        if (!File.Exists(file))
        {
            string why = File.Exists(Path.Combine(dir, "adapter_model.bin")) ? " (adapter_model.bin, a pickle, is not read: re-save with safe_serialization=True)" : "";
            throw new FurnaceException($"{file}: file not found{why}");
        }
        using var st = SafeTensorsFile.Open(file);
        var a = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        var b = new Dictionary<string, SafeTensorInfo>(StringComparer.Ordinal);
        foreach (var t in st.Tensors)
        {
            const string sa = ".lora_A.weight", sb = ".lora_B.weight";
            bool isA = t.Name.EndsWith(sa, StringComparison.Ordinal), isB = t.Name.EndsWith(sb, StringComparison.Ordinal);
            if (!t.Name.StartsWith(KeyPrefix, StringComparison.Ordinal) || !(isA || isB))
            {
                string hint = t.Name.Contains("lora_embedding", StringComparison.Ordinal) ? " (LoRA on embeddings is not supported)"
                    : t.Name.Contains("magnitude", StringComparison.Ordinal) ? " (DoRA is not supported)"
                    : t.Name.EndsWith(".bias", StringComparison.Ordinal) ? " (trained biases are not supported)"
                    : $" (expected {KeyPrefix}<module>.lora_A.weight / .lora_B.weight)";
                throw new FurnaceFormatException(file, $"unexpected tensor '{t.Name}'{hint}");
            }
            string module = t.Name[KeyPrefix.Length..^sa.Length];
            if (t.Type is not (DType.F32 or DType.F16 or DType.BF16))
                throw new FurnaceFormatException(file, $"tensor '{t.Name}' has dtype {t.DTypeName} (F32, F16 or BF16 expected)");
            if (t.Shape.Length != 2) throw new FurnaceFormatException(file, $"tensor '{t.Name}' has shape {t.ShapeText}, expected a matrix");
            (isA ? a : b)[module] = t;
        }
        var modules = new List<KeyValuePair<string, LoraModuleWeights>>();
        foreach (var (module, ta) in a.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (!b.TryGetValue(module, out var tb)) throw new FurnaceFormatException(file, $"tensor '{KeyA(module)}' has no matching '{KeyB(module)}'");
            long r = ta.Shape[0], inF = ta.Shape[1], outF = tb.Shape[0];
            if (r != config.Rank)
                throw new FurnaceFormatException(file, $"tensor '{ta.Name}' has shape {ta.ShapeText}: rank {r} differs from adapter_config.json's r {config.Rank}");
            if (tb.Shape[1] != r)
                throw new FurnaceFormatException(file, $"tensor '{tb.Name}' has shape {tb.ShapeText}, expected [{outF}, {r}] to match '{ta.Name}' {ta.ShapeText}");
            if (inF > int.MaxValue || outF > int.MaxValue) throw new FurnaceFormatException(file, $"tensor '{ta.Name}' is too large");
            modules.Add(KeyValuePair.Create(module, new LoraModuleWeights((int)r, (int)inF, (int)outF,
                st.Map.ReadFloats(ta.Offset, (int)ta.ElementCount, ta.Type!.Value),
                st.Map.ReadFloats(tb.Offset, (int)tb.ElementCount, tb.Type!.Value))));
        }
        foreach (string module in b.Keys)
        {
            if (!a.ContainsKey(module)) throw new FurnaceFormatException(file, $"tensor '{KeyB(module)}' has no matching '{KeyA(module)}'");
        }
        if (modules.Count == 0) throw new FurnaceFormatException(file, "holds no LoRA tensors");
        return new LoraAdapter(config, modules);
    }

    /// <summary>
    /// As CheckAgainst(decoder, source), and every module path is exactly one of LoraModules.ForLlama(decoder, prefix)
    /// (for code that looks modules up by path, e.g. a trainable graph whose paths carry that prefix).
    /// </summary>
    public void CheckAgainst(LlamaConfig decoder, string prefix, string source)
    {
        CheckAgainst(decoder, source);
        var known = LoraModules.ForLlama(decoder, prefix).Select(m => m.Path).ToHashSet(StringComparer.Ordinal);
        foreach (string path in ModulePaths)
        {
            if (known.Contains(path)) continue;
            string hint = prefix.Length == 0 && path.StartsWith(LoraModules.LlavaPrefix, StringComparison.Ordinal) ? " (the adapter was trained on a LLaVA model; this base is a plain decoder)"
                : prefix.Length > 0 && !path.StartsWith(prefix, StringComparison.Ordinal) ? $" (this base is a LLaVA model; its decoder modules start with '{prefix}')"
                : $" (expected paths like '{prefix}model.layers.0.self_attn.q_proj')";
            throw new FurnaceException($"{source}: LoRA module '{path}' is not a linear layer of the base model{hint}");
        }
    }

    /// <summary>
    /// Checks the adapter against a decoder: every module path is one of its layer linears (under any of the decoder
    /// prefixes: "model.", "language_model.model.", "model.language_model.") and the factors fit the weight's shape.
    /// Errors name the key and both shapes.
    /// </summary>
    public void CheckAgainst(LlamaConfig decoder, string source)
    {
        foreach (var (path, w) in _modules.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (LoraModules.Find(decoder, path) is not { } m)
            {
                string hint = path.Contains("vision_tower", StringComparison.Ordinal) ? " (LoRA on the vision tower is not supported)"
                    : path.Contains("multi_modal_projector", StringComparison.Ordinal) ? " (LoRA on the projector is not supported)"
                    : path.EndsWith("lm_head", StringComparison.Ordinal) ? " (LoRA on lm_head is not supported)"
                    : LoraModules.Parse(path) is { } p ? $" (the base has {decoder.Layers} layers)"
                    : " (LoRA is applied to the decoder layers' q/k/v/o and gate/up/down projections only)";
                throw new FurnaceException($"{source}: LoRA module '{path}' is not a linear layer of the base model{hint}");
            }
            if (w.InFeatures != m.InFeatures)
                throw new FurnaceException($"{source}: tensor '{KeyA(path)}' has shape [{w.Rank}, {w.InFeatures}] but the base weight '{path}.weight' has shape [{m.OutFeatures}, {m.InFeatures}] (in features differ)");
            if (w.OutFeatures != m.OutFeatures)
                throw new FurnaceException($"{source}: tensor '{KeyB(path)}' has shape [{w.OutFeatures}, {w.Rank}] but the base weight '{path}.weight' has shape [{m.OutFeatures}, {m.InFeatures}] (out features differ)");
        }
    }
}
