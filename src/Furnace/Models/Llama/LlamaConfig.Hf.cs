// LlamaConfig -> Hugging Face config.json (the inverse of HfConfigFile.ToLlama), for checkpoints we write.
using System.Text.Json;

namespace Furnace.Models.Llama;

public sealed partial record LlamaConfig
{
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
