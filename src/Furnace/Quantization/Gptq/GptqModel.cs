// The whole-model GPTQ workflow: a Hugging Face decoder directory (LlamaForCausalLM / Qwen2ForCausalLM, or a LLaVA
// directory's language model) -> a GGUF whose layer linears are GPTQ-quantized to `type` and whose other 2-D tensors
// (token embedding, output head, rows that don't fill the type's blocks) take the ordinary round-to-nearest path of
// HfToGgufConverter, with llama-quantize's fallback types. This is the library entry point `furnace quantize
// --method gptq` routes to.
using Furnace.Formats.Gguf;
using Furnace.Formats.HfConfig;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Tokenizers;
using Furnace.Formats.Weights;
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Quantization.Gptq;

public static class GptqModel
{
    /// <summary>GPTQ-quantizes the decoder in hfDir to type and writes ggufPath; returns the per-tensor results by GGUF name.</summary>
    public static IReadOnlyDictionary<string, GptqResult> HfToGguf(string hfDir, string ggufPath, DType type, GptqCalibrationOptions calibration,
        GptqOptions options, KernelContext ctx, Action<string>? progress = null, Action<string, float[], GptqResult, double[]>? solved = null)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        if (!BlockGrid.Supports(type)) throw new FurnaceException($"GPTQ cannot produce {DTypes.Name(type)} (q4_0, q4_1, q5_0, q5_1, q8_0, q2_K … q6_K can)");
        options.Validate();
        string configPath = Path.Combine(hfDir, "config.json");
        if (!File.Exists(configPath)) throw new FurnaceException($"{hfDir}: no config.json (not a Hugging Face model directory)");
        var raw = HfConfigFile.Read(configPath);
        bool llava = raw.ModelType == "llava" || raw.Architectures?.FirstOrDefault() == "LlavaForConditionalGeneration";
        LlamaConfig c = llava ? LlavaConfig.FromHuggingFace(hfDir).Text : LlamaConfig.FromHuggingFace(configPath);
        string tj = Path.Combine(hfDir, "tokenizer.json");
        if (!File.Exists(tj)) throw new FurnaceException($"{hfDir}: no tokenizer.json");
        Tokenizer tokenizer = Tokenizer.FromHuggingFace(tj);
        List<int[]> windows = GptqCalibration.TextWindows(calibration.Path, tokenizer, calibration.Samples, calibration.LengthFor(c.MaxPositions), calibration.Seed);

        Dictionary<string, GptqResult> results;
        using (ITensorSource source = SafeTensorsCheckpoint.Open(hfDir))
        {
            var vb = new WeightLoader(source);
            var weights = LlamaWeights.Load(llava ? vb.Prefix(LlavaTrainable.LanguagePrefix.TrimEnd('.')) : vb, c, CheckpointNaming.HuggingFace);
            using var model = new LlamaModel(c, weights, RopeStyle.HalfSplit);
            var inputs = new List<float[]>(windows.Count);
            foreach (int[] ids in windows)
            {
                var x = new float[ids.Length * c.Dim];
                model.Embed(ids, x);
                inputs.Add(x);
            }
            results = GptqLlama.Quantize(model, inputs, name => ChooseType(name, type, c), options, ctx, progress, solved);
        }
        var ggufName = LlamaTensorNames.All(c).ToDictionary(t => t.Hf, t => t.Gguf, StringComparer.Ordinal);
        HfToGgufConverter.Convert(hfDir, ggufPath, type, null,
            name => results.TryGetValue(ggufName[name], out GptqResult? r) ? new EncodedTensor(r.Type, () => r.Data) : null);
        return results;
    }

    /// <summary>
    /// GPTQ over the decoder of a GGUF with float weights (F32/F16/BF16): typeFor maps a layer linear's GGUF name to its
    /// type (a recipe's plan) or null; text calibration is tokenized with the file's own vocabulary. Returns the encoded
    /// tensors by GGUF name, rows in the file's order, for GgufQuantizer to write in place of its RTN encoding.
    /// </summary>
    public static Dictionary<string, GptqResult> Gguf(string ggufPath, Func<string, DType?> typeFor, GptqCalibrationOptions calibration,
        GptqOptions options, KernelContext ctx, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(calibration);
        return Gguf(ggufPath, typeFor, null, calibration, options, ctx, progress);
    }

    /// <summary>As Gguf, with ready calibration inputs (each (n, dim) decoder input embeddings, e.g. GptqCaptionCalibration's).</summary>
    public static Dictionary<string, GptqResult> Gguf(string ggufPath, Func<string, DType?> typeFor, List<float[]> inputs,
        GptqOptions options, KernelContext ctx, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return Gguf(ggufPath, typeFor, inputs, null, options, ctx, progress);
    }

    private static Dictionary<string, GptqResult> Gguf(string ggufPath, Func<string, DType?> typeFor, List<float[]>? inputs,
        GptqCalibrationOptions? calibration, GptqOptions options, KernelContext ctx, Action<string>? progress)
    {
        options.Validate();
        using var model = LlamaModel.FromGguf(GgufFile.Open(ggufPath));
        LlamaConfig c = model.Config;
        if (inputs == null)
        {
            Tokenizer tokenizer;
            using (var f = GgufFile.Open(ggufPath)) tokenizer = Tokenizer.FromGguf(f);
            List<int[]> windows = GptqCalibration.TextWindows(calibration!.Path, tokenizer, calibration.Samples, calibration.LengthFor(c.MaxPositions), calibration.Seed);
            inputs = new List<float[]>(windows.Count);
            foreach (int[] ids in windows)
            {
                var x = new float[ids.Length * c.Dim];
                model.Embed(ids, x);
                inputs.Add(x);
            }
        }
        return GptqLlama.Quantize(model, inputs, name => typeFor(name) is { } t && BlockGrid.Supports(t) ? t : null, options, ctx, progress);
    }

    /// <summary>The GPTQ type of a layer linear: type when its rows fill type's blocks, else null (the RTN fallback applies).</summary>
    public static DType? ChooseType(string ggufName, DType type, LlamaConfig c)
    {
        int cols = ggufName.EndsWith("attn_output.weight", StringComparison.Ordinal) ? c.QDim
            : ggufName.EndsWith("ffn_down.weight", StringComparison.Ordinal) ? c.FfnDim : c.Dim;
        return cols % DTypes.BlockSize(type) == 0 ? type : null;
    }
}
