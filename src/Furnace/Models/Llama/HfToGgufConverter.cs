// Hugging Face LlamaForCausalLM / Qwen2ForCausalLM directory -> one GGUF file that llama.cpp loads: weights and
// vocabulary, as llama.cpp's convert_hf_to_gguf.py does for these architectures. Tensors stream one at a time
// (safetensors are memory-mapped; at most one tensor is decoded to float at once), so a 7B model converts in a few
// GB of memory. A LLaVA directory (model_type llava) converts its decoder: text_config and the language_model.*
// tensors, with the directory's tokenizer (the projector and vision side stay in the directory, for --projector).
// Every expected tensor is checked (present, right shape, a float dtype) before anything is written.
// A GPTQ / AWQ directory (quantization_config) converts too: each quantized linear is unpacked exactly
// (Quantization.Import.QuantizedLinear) and written as its lossless block type (Q4_0 / Q8_0 / Q4_1) when the
// requested type is that one or no type is given, otherwise dequantized and encoded in the requested type (f16 by default).
using Furnace.Formats.HfConfig;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Tokenizers;
using Furnace.Formats.Weights;
using Furnace.Formats.Quantized;
using Furnace.Tensors;

namespace Furnace.Models.Llama;

public static class HfToGgufConverter
{
    /// <param name="progress">Called before each tensor is encoded with (index from 1, count, GGUF name).</param>
    public static void Convert(string hfDir, string ggufPath, DType type, Action<int, int, string>? progress = null, Func<string, EncodedTensor?>? encoded = null) =>
        Convert(hfDir, ggufPath, (DType?)type, progress, encoded);

    /// <param name="requested">null: f16, and for GPTQ / AWQ linears their lossless block type where there is one.</param>
    /// <param name="encoded">Pre-encoded 2-D weights by Hugging Face name (without the LLaVA language_model. prefix), e.g. GPTQ's.</param>
    public static void Convert(string hfDir, string ggufPath, DType? requested, Action<int, int, string>? progress, Func<string, EncodedTensor?>? encoded = null)
    {
        DType type = requested ?? DType.F16;
        if (!DTypes.IsWeightType(type))
            throw new FurnaceException($"cannot convert to {DTypes.Name(type)} (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K … q6_K, iq4_nl, iq4_xs are supported)");
        if (!Directory.Exists(hfDir)) throw new FurnaceException($"{hfDir}: no such directory (give a Hugging Face model directory)");
        string configPath = Path.Combine(hfDir, "config.json");
        if (!File.Exists(configPath)) throw new FurnaceException($"{hfDir}: no config.json (not a Hugging Face model directory)");
        HfModelConfig raw = HfConfigFile.Read(configPath);
        bool llava = raw.ModelType == "llava" || raw.Architectures?.FirstOrDefault() == "LlavaForConditionalGeneration";
        HfQuantization? quant = HfQuantization.FromConfig(raw, configPath);
        LlamaConfig c = llava ? Vlm.LlavaConfig.FromHuggingFace(hfDir).Text : LlamaConfig.FromHuggingFace(configPath);
        string prefix = llava ? Vlm.LlavaTrainable.LanguagePrefix : "";

        string tokenizerPath = Path.Combine(hfDir, "tokenizer.json");
        if (!File.Exists(tokenizerPath)) throw new FurnaceException($"{hfDir}: no tokenizer.json (a GGUF file carries the vocabulary)");
        Tokenizer tokenizer = Tokenizer.FromHuggingFace(tokenizerPath);
        var vocab = tokenizer.ToGgufMetadata(c.VocabSize);

        using ITensorSource source = SafeTensorsCheckpoint.Open(hfDir);
        var names = LlamaTensorNames.All(c).ToList();
        // the quantized linears, unpacked once here to validate them and to pick their lossless block type
        var lossless = new Dictionary<string, DType?>(StringComparer.Ordinal);
        QuantizedLinear? Quantized(LlamaTensorName t)
        {
            if (quant == null || t.Shape.Length != 2 || !t.Hf.EndsWith(".weight", StringComparison.Ordinal)) return null;
            var module = new WeightLoader(source).Prefix(prefix + t.Hf[..^".weight".Length]);
            return QuantizedLinear.TryLoad(module, quant, (int)t.Shape[0], (int)t.Shape[1]);
        }
        foreach (var t in names)
        {
            if (Quantized(t) is { } q)
                lossless[t.Hf] = LosslessBlocks.TryEncode(q, out DType lt) != null && (requested == null || requested == lt) ? lt : null;
            else
                Entry(source, t, prefix);
        }

        int done = 0;
        var byHf = names.ToDictionary(t => t.Hf, StringComparer.Ordinal);
        float[] Read(string hfName)
        {
            var t = byHf[hfName];
            progress?.Invoke(++done, names.Count, t.Gguf);
            if (lossless.ContainsKey(hfName)) return Quantized(t)!.Dequantize();
            TensorEntry e = Entry(source, t, prefix);
            return e.File.ReadFloats(e.Offset, checked((int)e.ElementCount), e.Type);
        }
        EncodedTensor? Encoded(string hfName)
        {
            if (encoded?.Invoke(hfName) is { } given) return given;
            if (!lossless.TryGetValue(hfName, out DType? lt) || lt is not { } blockType) return null;
            var t = byHf[hfName];
            return new EncodedTensor(blockType, () =>
            {
                progress?.Invoke(++done, names.Count, t.Gguf);
                return LosslessBlocks.TryEncode(Quantized(t)!, out _)!;
            });
        }
        // general.file_type: the requested type, or for a default conversion the most common lossless block type
        DType fileType = requested ?? lossless.Values.OfType<DType>().GroupBy(x => x).OrderByDescending(g => g.Count()).Select(g => (DType?)g.Key).FirstOrDefault() ?? DType.F16;
        LlamaGgufExport.Write(ggufPath, c, Read, type, vocab, ModelName(hfDir), Encoded, fileType);
    }

    // general.name: the directory's name, as llama.cpp's converter falls back to
    private static string ModelName(string dir) =>
        Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir))) is { Length: > 0 } n ? n : "model";

    private static TensorEntry Entry(ITensorSource source, LlamaTensorName t, string prefix)
    {
        TensorEntry e = source.Find(prefix + t.Hf) ?? throw new FurnaceFormatException(source.Path, $"missing tensor '{prefix + t.Hf}'");
        if (!e.Shape.SequenceEqual(t.Shape))
            throw new FurnaceFormatException(source.Path, $"tensor '{t.Hf}' has shape {e.ShapeText}, expected [{string.Join(", ", t.Shape)}]");
        if (e.Type is not (DType.F32 or DType.F16 or DType.BF16))
            throw new FurnaceFormatException(source.Path, $"tensor '{t.Hf}' is {DTypes.Name(e.Type)}; conversion reads F32, F16 and BF16");
        return e;
    }
}
