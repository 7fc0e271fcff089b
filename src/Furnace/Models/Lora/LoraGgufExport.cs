// A LoRA adapter as llama.cpp's GGUF adapter file (what convert_lora_to_gguf.py writes and llama_adapter_lora_init
// reads, llama.cpp src/llama-adapter.cpp): metadata general.type = "adapter", general.architecture = the base's arch,
// adapter.type = "lora", adapter.lora.alpha; per adapted weight "blk.N.<gguf name>.weight.lora_a" with ggml shape
// [in, r] (PEFT's A as is) and ".lora_b" [r, out] (PEFT's B, rows permuted like the weight for llama-arch Q/K).
// llama.cpp scales B·A by alpha / r (r = lora_b ne[0]), so alpha is written as scale·r: that carries rsLoRA's
// alpha/√r and a --lora-scale multiplier exactly. Factors are stored as F32.
using Furnace.Formats.Gguf;
using Furnace.Models.Llama;
using Furnace.Tensors;

namespace Furnace.Models.Lora;

public static class LoraGgufExport
{
    // PEFT's linear names -> llama.cpp's tensor names
    private static readonly Dictionary<string, string> GgufNames = new(StringComparer.Ordinal)
    {
        ["q_proj"] = "attn_q", ["k_proj"] = "attn_k", ["v_proj"] = "attn_v", ["o_proj"] = "attn_output",
        ["gate_proj"] = "ffn_gate", ["up_proj"] = "ffn_up", ["down_proj"] = "ffn_down",
    };

    /// <summary>The decoder shape of a base model: a GGUF file, an HF decoder directory, or a LLaVA directory (its text model).</summary>
    public static LlamaConfig DecoderConfigOf(string basePath)
    {
        DeepSeekLora.RefuseCheckpointWrite(basePath, "export");
        if (File.Exists(basePath))
        {
            if (!GgufFile.HasMagic(basePath)) throw new FurnaceFormatException(basePath, "not a GGUF file (give a .gguf file or a Hugging Face model directory)");
            using var f = GgufFile.Open(basePath);
            return LlamaConfig.FromGguf(f);
        }
        string config = Path.Combine(basePath, "config.json");
        if (!File.Exists(config)) throw new FurnaceException($"{basePath}: not a GGUF file or a Hugging Face model directory");
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(config), new System.Text.Json.JsonDocumentOptions { CommentHandling = System.Text.Json.JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return doc.RootElement.ValueKind == System.Text.Json.JsonValueKind.Object && doc.RootElement.TryGetProperty("vision_config", out _)
            ? Vlm.LlavaConfig.FromHuggingFace(basePath).Text
            : LlamaConfig.FromHuggingFace(config);
    }

    /// <summary>Writes the adapter for a base of this shape (atomically); scaleMultiplier folds into adapter.lora.alpha.</summary>
    public static void Write(string path, LoraAdapter adapter, LlamaConfig decoder, float scaleMultiplier = 1f)
    {
        adapter.CheckAgainst(decoder, path);
        float alpha = adapter.Config.Scale * scaleMultiplier * adapter.Config.Rank;
        if (!float.IsFinite(alpha) || alpha == 0)
            throw new FurnaceException($"{path}: the adapter's effective scale {adapter.Config.Scale * scaleMultiplier} cannot be written (llama.cpp reads alpha 0 as 'no scaling')");
        bool permute = decoder.Architecture == "llama";
        var w = new GgufWriter()
            .Add("general.architecture", decoder.Architecture)
            .Add("general.type", "adapter")
            .Add("general.name", "furnace-lora")
            .Add("adapter.type", "lora")
            .Add("adapter.lora.alpha", alpha);
        foreach (string module in adapter.ModulePaths)
        {
            var m = adapter.Modules[module];
            var (layer, name) = LoraModules.Parse(module)!.Value;
            int heads = !permute ? 0 : name == "q_proj" ? decoder.Heads : name == "k_proj" ? decoder.KvHeads : 0;
            float[] b = heads > 0 ? LlamaTensorNames.PermuteRows(m.B, m.OutFeatures, heads) : m.B;
            string t = $"blk.{layer}.{GgufNames[name]}.weight";
            w.AddTensor(t + ".lora_a", DType.F32, [m.InFeatures, m.Rank], m.A);
            w.AddTensor(t + ".lora_b", DType.F32, [m.Rank, m.OutFeatures], b);
        }
        w.Write(path);
    }
}
