// LlamaConfig <-> Hugging Face config.json.
// Reading applies the defaults transformers applies (transformers/models/llama/configuration_llama.py,
// models/qwen2/configuration_qwen2.py and modeling_rope_utils.py): num_key_value_heads = num_attention_heads,
// head_dim = hidden_size / heads, rms_norm_eps 1e-6, rope_theta 10000, no tied embeddings, no attention bias (Qwen2:
// q/k/v biases always). Supported: LlamaForCausalLM (Llama 2/3/3.x, DeepSeek-LLM, DeepSeek-Coder) and
// Qwen2ForCausalLM (DeepSeek-R1-Distill-Qwen); rope_scaling none/default, "linear" and "llama3".
// Writing (ToHfConfigJson) is the inverse, for checkpoints we write.
using System.Text.Json;
using Furnace.Formats.HfConfig;

namespace Furnace.Models.Llama;

public sealed partial record LlamaConfig
{
    private static readonly string[] SupportedHf = ["LlamaForCausalLM", "Qwen2ForCausalLM"];

    /// <summary>The decoder shape of a LlamaForCausalLM or Qwen2ForCausalLM config.json.</summary>
    public static LlamaConfig FromHuggingFace(string configPath) => FromHuggingFace(HfConfigFile.Read(configPath), configPath);

    public static LlamaConfig FromHuggingFace(HfModelConfig raw, string source)
    {
        string architecture = raw.Architectures is { Length: > 0 } a ? a[0]
            : raw.ModelType switch
            {
                "llama" => "LlamaForCausalLM",
                "qwen2" => "Qwen2ForCausalLM",
                null => throw new FurnaceException($"{source}: missing field 'architectures'"),
                var m => throw new FurnaceException($"{source}: model_type '{m}' is not supported ({string.Join(", ", SupportedHf)})"),
            };
        bool qwen2 = architecture switch
        {
            "LlamaForCausalLM" => false,
            "Qwen2ForCausalLM" => true,
            _ => throw new FurnaceException($"{source}: architecture '{architecture}' is not supported ({string.Join(", ", SupportedHf)})"),
        };

        int Required(int? v, string field) => v ?? throw new FurnaceException($"{source}: missing field '{field}'");
        void Unsupported(bool bad, string what)
        {
            if (bad) throw new FurnaceException($"{source}: {what} is not supported");
        }

        int dim = Required(raw.HiddenSize, "hidden_size");
        int heads = Required(raw.NumAttentionHeads, "num_attention_heads");
        if (heads <= 0) throw new FurnaceException($"{source}: num_attention_heads {heads} must be positive");
        if (raw.HeadDim == null && dim % heads != 0)
            throw new FurnaceException($"{source}: hidden_size {dim} is not divisible by num_attention_heads {heads} and head_dim is not given");

        Unsupported(raw.HiddenAct is not (null or "silu"), $"hidden_act '{raw.HiddenAct}' (only silu)");
        Unsupported(raw.MlpBias == true, "mlp_bias true");
        Unsupported(qwen2 && raw.UseSlidingWindow == true, "use_sliding_window true");

        HfRopeScaling? rope = raw.RopeScaling ?? raw.RopeParameters;
        Llama3RopeScaling? llama3 = null;
        float linear = 1f;
        switch (rope?.Kind)
        {
            case null or "default":
                break;
            case "linear":
                linear = (float)(rope.Factor ?? throw new FurnaceException($"{source}: missing field 'rope_scaling.factor'"));
                break;
            case "llama3":
                double Field(double? v, string f) => v ?? throw new FurnaceException($"{source}: missing field 'rope_scaling.{f}'");
                llama3 = new Llama3RopeScaling(
                    (float)Field(rope.Factor, "factor"),
                    (float)Field(rope.LowFreqFactor, "low_freq_factor"),
                    (float)Field(rope.HighFreqFactor, "high_freq_factor"),
                    rope.OriginalMaxPositionEmbeddings ?? throw new FurnaceException($"{source}: missing field 'rope_scaling.original_max_position_embeddings'"));
                break;
            default:
                throw new FurnaceException($"{source}: rope_scaling type '{rope.Kind}' is not supported (linear, llama3)");
        }

        return new LlamaConfig
        {
            Architecture = qwen2 ? "qwen2" : "llama",
            Dim = dim,
            Layers = Required(raw.NumHiddenLayers, "num_hidden_layers"),
            Heads = heads,
            KvHeads = raw.NumKeyValueHeads ?? heads,
            HeadDim = raw.HeadDim ?? dim / heads,
            FfnDim = Required(raw.IntermediateSize, "intermediate_size"),
            VocabSize = Required(raw.VocabSize, "vocab_size"),
            MaxPositions = raw.MaxPositionEmbeddings ?? (qwen2 ? 32768 : 2048),
            RmsEps = (float)(raw.RmsNormEps ?? 1e-6),
            RopeTheta = (float)(raw.RopeTheta ?? raw.RopeParameters?.RopeTheta ?? 10000.0),
            RopeScaling = llama3,
            RopeLinearFactor = linear,
            TiedEmbeddings = raw.TieWordEmbeddings ?? false,
            AttentionBias = qwen2 || (raw.AttentionBias ?? false),
        }.Validated(source);
    }

    public byte[] ToHfConfigJson()
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            bool qwen = Architecture == "qwen2";
            w.WriteStartObject();
            w.WriteStartArray("architectures");
            w.WriteStringValue(qwen ? "Qwen2ForCausalLM" : "LlamaForCausalLM");
            w.WriteEndArray();
            w.WriteString("model_type", qwen ? "qwen2" : "llama");
            w.WriteNumber("hidden_size", Dim);
            w.WriteNumber("num_hidden_layers", Layers);
            w.WriteNumber("num_attention_heads", Heads);
            w.WriteNumber("num_key_value_heads", KvHeads);
            w.WriteNumber("head_dim", HeadDim);
            w.WriteNumber("intermediate_size", FfnDim);
            w.WriteNumber("vocab_size", VocabSize);
            w.WriteNumber("max_position_embeddings", MaxPositions);
            w.WriteNumber("rms_norm_eps", RmsEps);
            w.WriteNumber("rope_theta", RopeTheta);
            w.WriteBoolean("tie_word_embeddings", TiedEmbeddings);
            if (!qwen) w.WriteBoolean("attention_bias", AttentionBias);
            w.WriteString("hidden_act", "silu");
            w.WriteString("torch_dtype", "float32");
            if (RopeScaling is { } s)
            {
                w.WriteStartObject("rope_scaling");
                w.WriteString("rope_type", "llama3");
                w.WriteNumber("factor", s.Factor);
                w.WriteNumber("low_freq_factor", s.LowFreqFactor);
                w.WriteNumber("high_freq_factor", s.HighFreqFactor);
                w.WriteNumber("original_max_position_embeddings", s.OriginalMaxPositions);
                w.WriteEndObject();
            }
            else if (RopeLinearFactor != 1f)
            {
                w.WriteStartObject("rope_scaling");
                w.WriteString("type", "linear");
                w.WriteNumber("factor", RopeLinearFactor);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return ms.ToArray();
    }
}
