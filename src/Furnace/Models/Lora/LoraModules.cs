// The linear layers of a Llama-family decoder as PEFT sees them (module paths of transformers'
// LlamaForCausalLM / Qwen2ForCausalLM), and the LlamaLayerWeights slot each one maps to. The prefix is the
// decoder's place in the checkpoint: "" for a LlamaForCausalLM base ("model.layers.0.self_attn.q_proj"),
// "language_model." for a LLaVA base ("language_model.model.layers.0.self_attn.q_proj").
using System.Text.RegularExpressions;
using Furnace.Models.Llama;

namespace Furnace.Models.Lora;

public static partial class LoraModules
{
    /// <summary>The per-layer linear names (the last path component), in checkpoint order.</summary>
    public static IReadOnlyList<string> LayerLinears { get; } =
        ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    public const string LlavaPrefix = "language_model.";

    /// <summary>Every linear a LoRA adapter may target in this decoder (lm_head excluded, as PEFT's all-linear does).</summary>
    public static IReadOnlyList<LoraModule> ForLlama(LlamaConfig c, string prefix = "")
    {
        var list = new List<LoraModule>(c.Layers * LayerLinears.Count);
        for (int i = 0; i < c.Layers; i++)
        {
            string a = $"{prefix}model.layers.{i}.self_attn.", m = $"{prefix}model.layers.{i}.mlp.";
            list.Add(new(a + "q_proj", c.QDim, c.Dim));
            list.Add(new(a + "k_proj", c.KvDim, c.Dim));
            list.Add(new(a + "v_proj", c.KvDim, c.Dim));
            list.Add(new(a + "o_proj", c.Dim, c.QDim));
            list.Add(new(m + "gate_proj", c.FfnDim, c.Dim));
            list.Add(new(m + "up_proj", c.FfnDim, c.Dim));
            list.Add(new(m + "down_proj", c.Dim, c.FfnDim));
        }
        return list;
    }

    /// <summary>The modules of this decoder the targets select (what an adapter with these targets holds).</summary>
    public static IReadOnlyList<LoraModule> Select(LlamaConfig c, LoraTargets targets, string prefix = "") =>
        ForLlama(c, prefix).Where(m => targets.Matches(m.Path)).ToList();

    /// <summary>
    /// Is this path one of a decoder layer's linears: "[language_model.]model.layers.N.self_attn.q_proj" (or the
    /// transformers >= 4.52 LLaVA layout "model.language_model.layers.N.mlp.up_proj")? A vision tower's layers are not.
    /// </summary>
    public static bool IsDecoderLinear(string path) => DecoderLinear().IsMatch(path);

    /// <summary>(layer index, linear name) of a decoder linear path, or null for any other path.</summary>
    public static (int Layer, string Name)? Parse(string path)
    {
        var m = DecoderLinear().Match(path);
        return m.Success ? (int.Parse(m.Groups[1].ValueSpan, provider: System.Globalization.CultureInfo.InvariantCulture), m.Groups[2].Value) : null;
    }

    /// <summary>The decoder linear at this path with its weight shape, or null when the path is not one of this decoder's.</summary>
    public static LoraModule? Find(LlamaConfig c, string path)
    {
        if (Parse(path) is not { } p || p.Layer >= c.Layers) return null;
        (int o, int i) = p.Name switch
        {
            "q_proj" => (c.QDim, c.Dim),
            "k_proj" or "v_proj" => (c.KvDim, c.Dim),
            "o_proj" => (c.Dim, c.QDim),
            "gate_proj" or "up_proj" => (c.FfnDim, c.Dim),
            _ => (c.Dim, c.FfnDim),
        };
        return new LoraModule(path, o, i);
    }

    [GeneratedRegex(@"\A(?:model\.|language_model\.model\.|model\.language_model\.)layers\.(\d+)\.(?:self_attn|mlp)\.(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)\z", RegexOptions.CultureInvariant)]
    private static partial Regex DecoderLinear();
}
