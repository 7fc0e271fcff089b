// Opens a decoder checkpoint from a path, whatever its format: a GGUF file, or a Hugging Face directory.
using Furnace.Formats.Gguf;
using Furnace.Formats.HfConfig;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Tensors;
using Furnace.Models.Llama;

namespace Furnace.Models;

public static class ModelLoader
{
    public static LlamaModel OpenLlama(string path)
    {
        if (Directory.Exists(path)) return OpenHuggingFace(path);
        if (!File.Exists(path)) throw new FurnaceException($"{path}: no such file or directory");
        if (!GgufFile.HasMagic(path))
            throw new FurnaceFormatException(path, "not a GGUF file (give a .gguf file or a Hugging Face model directory)");
        var f = GgufFile.Open(path);
        try
        {
            return LlamaModel.FromGguf(f);
        }
        catch
        {
            f.Dispose();
            throw;
        }
    }

    /// <summary>A Hugging Face LlamaForCausalLM / Qwen2ForCausalLM directory: config.json + model.safetensors (or shards).</summary>
    public static LlamaModel OpenHuggingFace(string dir)
    {
        string configPath = Path.Combine(dir, "config.json");
        if (!File.Exists(configPath)) throw new FurnaceException($"{dir}: no config.json (not a Hugging Face model directory)");
        LlamaConfig c = HfConfigFile.LoadLlama(configPath);
        ITensorSource source = SafeTensorsCheckpoint.Open(dir);
        var packed = new PackedWeights();
        try
        {
            var weights = LlamaWeights.Load(new WeightLoader(source), c, CheckpointNaming.HuggingFace, packed);
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
