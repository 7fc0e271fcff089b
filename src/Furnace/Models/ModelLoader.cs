// Opens a decoder checkpoint from a path, whatever its format: a GGUF file, or a Hugging Face directory; optionally
// with a LoRA adapter merged at load.
using Furnace.Formats.Gguf;
using Furnace.Formats.HfConfig;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Tensors;
using Furnace.Models.DeepSeek;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Formats.Quantized;

namespace Furnace.Models;

public static class ModelLoader
{
    /// <summary>
    /// Any decoder Furnace runs: a deepseek2 / deepseek GGUF file or a DeepseekV2/V3ForCausalLM / DeepseekForCausalLM
    /// directory opens as a DeepSeekModel (MLA or plain attention + DeepSeekMoE), everything else as OpenLlama does. A
    /// LoRA adapter is merged at load either way (DeepSeekLora for DeepSeek's MLA and expert projections).
    /// </summary>
    public static IDecoder OpenDecoder(string path, LoraAdapter? lora = null, float loraScale = 1f)
    {
        string config = Path.Combine(path, "config.json");
        if (Directory.Exists(path) && File.Exists(config) && DeepSeekConfig.IsHfDeepSeek(HfConfigFile.Read(config)))
        {
            return DeepSeekModel.FromHuggingFace(path, lora, loraScale);
        }
        if (File.Exists(path) && GgufFile.HasMagic(path))
        {
            var f = GgufFile.Open(path);
            if (f.Architecture is DeepSeekConfig.Arch or DeepSeekConfig.MhaArch)
            {
                try
                {
                    return DeepSeekModel.FromGguf(f, lora, loraScale);
                }
                catch
                {
                    f.Dispose();
                    throw;
                }
            }
            f.Dispose();
        }
        return OpenLlama(path, lora, loraScale);
    }

    public static LlamaModel OpenLlama(string path) => OpenLlama(path, null);

    /// <summary>As OpenLlama, with a LoRA adapter merged into the decoder at load when given (see LoraMerge).</summary>
    public static LlamaModel OpenLlama(string path, LoraAdapter? lora, float loraScale = 1f)
    {
        if (Directory.Exists(path)) return OpenHuggingFace(path, lora, loraScale);
        if (!File.Exists(path)) throw new FurnaceException($"{path}: no such file or directory");
        if (!GgufFile.HasMagic(path))
            throw new FurnaceFormatException(path, "not a GGUF file (give a .gguf file or a Hugging Face model directory)");
        var f = GgufFile.Open(path);
        try
        {
            return LlamaModel.FromGguf(f, lora, loraScale);
        }
        catch
        {
            f.Dispose();
            throw;
        }
    }

    /// <summary>A Hugging Face LlamaForCausalLM / Qwen2ForCausalLM directory: config.json + model.safetensors (or shards).</summary>
    public static LlamaModel OpenHuggingFace(string dir) => OpenHuggingFace(dir, null);

    public static LlamaModel OpenHuggingFace(string dir, LoraAdapter? lora, float loraScale = 1f) =>
        OpenHuggingFace(dir, lora, loraScale, HfQuantizedForm.Lossless);

    /// <param name="quantizedForm">For GPTQ / AWQ checkpoints: lossless blocks where exact (default), or f32 throughout.</param>
    public static LlamaModel OpenHuggingFace(string dir, LoraAdapter? lora, float loraScale, HfQuantizedForm quantizedForm)
    {
        string configPath = Path.Combine(dir, "config.json");
        if (!File.Exists(configPath)) throw new FurnaceException($"{dir}: no config.json (not a Hugging Face model directory)");
        HfModelConfig raw = HfConfigFile.Read(configPath);
        LlamaConfig c = LlamaConfig.FromHuggingFace(raw, configPath);
        HfQuantization? quant = HfQuantization.FromConfig(raw, configPath);
        if (quant != null && lora != null) throw new FurnaceException($"{dir}: merging a LoRA adapter into a {quant.Method.ToString().ToUpperInvariant()} checkpoint is not supported (convert it to GGUF first)");
        ITensorSource source = SafeTensorsCheckpoint.Open(dir);
        var packed = new PackedWeights();
        try
        {
            var weights = quant != null
                ? LlamaWeights.LoadQuantizedHf(new WeightLoader(source), c, quant, packed, quantizedForm)
                : lora == null
                ? LlamaWeights.Load(new WeightLoader(source), c, CheckpointNaming.HuggingFace, packed)
                : LoraMerge.Apply(LlamaWeights.Load(new WeightLoader(source), c, CheckpointNaming.HuggingFace), c, lora, packed,
                    ggufRowOrder: false, loraScale, pack: true, source: dir);
            // HF weights are in rotate_half order: half-split pairs, no llama.cpp permutation.
            return new LlamaModel(c, weights, RopeStyle.HalfSplit, source, packed);
        }
        catch
        {
            packed.Dispose();
            source.Dispose();
            throw;
        }
    }
}
