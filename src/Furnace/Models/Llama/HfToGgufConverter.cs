// Hugging Face LlamaForCausalLM / Qwen2ForCausalLM directory -> one GGUF file that llama.cpp loads: weights and
// vocabulary, as llama.cpp's convert_hf_to_gguf.py does for these architectures. Tensors stream one at a time
// (safetensors are memory-mapped; at most one tensor is decoded to float at once), so a 7B model converts in a few
// GB of memory. A LLaVA directory (model_type llava) converts its decoder: text_config and the language_model.*
// tensors, with the directory's tokenizer (the projector and vision side stay in the directory, for --projector).
// Every expected tensor is checked (present, right shape, a float dtype) before anything is written.
using Furnace.Formats.HfConfig;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Tokenizers;
using Furnace.Formats.Weights;
using Furnace.Tensors;

namespace Furnace.Models.Llama;

public static class HfToGgufConverter
{
    /// <param name="progress">Called before each tensor is encoded with (index from 1, count, GGUF name).</param>
    /// <param name="encoded">Pre-encoded 2-D weights by Hugging Face name (without the LLaVA language_model. prefix), e.g. GPTQ's.</param>
    public static void Convert(string hfDir, string ggufPath, DType type, Action<int, int, string>? progress = null, Func<string, EncodedTensor?>? encoded = null)
    {
        if (!DTypes.IsWeightType(type))
            throw new FurnaceException($"cannot convert to {DTypes.Name(type)} (f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1, q2_K … q6_K, iq4_nl, iq4_xs are supported)");
        if (!Directory.Exists(hfDir)) throw new FurnaceException($"{hfDir}: no such directory (give a Hugging Face model directory)");
        string configPath = Path.Combine(hfDir, "config.json");
        if (!File.Exists(configPath)) throw new FurnaceException($"{hfDir}: no config.json (not a Hugging Face model directory)");
        bool llava = IsLlava(configPath);
        LlamaConfig c = llava ? Vlm.LlavaConfig.FromHuggingFace(hfDir).Text : LlamaConfig.FromHuggingFace(configPath);
        string prefix = llava ? Vlm.LlavaTrainable.LanguagePrefix : "";

        string tokenizerPath = Path.Combine(hfDir, "tokenizer.json");
        if (!File.Exists(tokenizerPath)) throw new FurnaceException($"{hfDir}: no tokenizer.json (a GGUF file carries the vocabulary)");
        Tokenizer tokenizer = Tokenizer.FromHuggingFace(tokenizerPath);
        var vocab = tokenizer.ToGgufMetadata(c.VocabSize);

        using ITensorSource source = SafeTensorsCheckpoint.Open(hfDir);
        var names = LlamaTensorNames.All(c).ToList();
        foreach (var t in names) Entry(source, t, prefix);

        int done = 0;
        var byHf = names.ToDictionary(t => t.Hf, StringComparer.Ordinal);
        float[] Read(string hfName)
        {
            var t = byHf[hfName];
            progress?.Invoke(++done, names.Count, t.Gguf);
            TensorEntry e = Entry(source, t, prefix);
            return e.File.ReadFloats(e.Offset, checked((int)e.ElementCount), e.Type);
        }
        LlamaGgufExport.Write(ggufPath, c, Read, type, vocab, ModelName(hfDir), encoded);
    }

    // general.name: the directory's name, as llama.cpp's converter falls back to
    private static string ModelName(string dir) =>
        Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(dir))) is { Length: > 0 } n ? n : "model";

    private static bool IsLlava(string configPath)
    {
        var raw = HfConfigFile.Read(configPath);
        return raw.ModelType == "llava" || raw.Architectures?.FirstOrDefault() == "LlavaForConditionalGeneration";
    }

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
