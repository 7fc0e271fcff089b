using System.Text;
using Furnace.Formats.HfConfig;
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Formats;

public sealed class HfConfigTests
{
    // The config.json files of the real checkpoints on the Hugging Face hub (deepseek-ai/..., meta-llama/...).
    private const string DeepSeekLlm7bChat = """
        {
          "architectures": [
            "LlamaForCausalLM"
          ],
          "bos_token_id": 100000,
          "eos_token_id": 100001,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 11008,
          "max_position_embeddings": 4096,
          "model_type": "llama",
          "num_attention_heads": 32,
          "num_hidden_layers": 30,
          "num_key_value_heads": 32,
          "pretraining_tp": 1,
          "rms_norm_eps": 1e-06,
          "rope_scaling": null,
          "rope_theta": 10000.0,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.33.1",
          "use_cache": true,
          "vocab_size": 102400
        }
        """;

    private const string DeepSeekLlm67bChat = """
        {
          "architectures": [
            "LlamaForCausalLM"
          ],
          "bos_token_id": 100000,
          "eos_token_id": 100001,
          "hidden_act": "silu",
          "hidden_size": 8192,
          "initializer_range": 0.02,
          "intermediate_size": 22016,
          "max_position_embeddings": 4096,
          "model_type": "llama",
          "num_attention_heads": 64,
          "num_hidden_layers": 95,
          "num_key_value_heads": 8,
          "pretraining_tp": 1,
          "rms_norm_eps": 1e-06,
          "rope_scaling": null,
          "rope_theta": 10000.0,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.33.1",
          "use_cache": true,
          "vocab_size": 102400
        }
        """;

    private const string DeepSeekCoder67bInstruct = """
        {
          "_name_or_path": "/3fs-jd/prod/deepseek/shared/zhuqihao/public_model/deepseek-coder-7b-instruct2",
          "architectures": [
            "LlamaForCausalLM"
          ],
          "attention_bias": false,
          "bos_token_id": 32013,
          "eos_token_id": 32021,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 11008,
          "max_position_embeddings": 16384,
          "model_type": "llama",
          "num_attention_heads": 32,
          "num_hidden_layers": 32,
          "num_key_value_heads": 32,
          "pretraining_tp": 1,
          "rms_norm_eps": 1e-06,
          "rope_scaling": {
            "factor": 4.0,
            "type": "linear"
          },
          "rope_theta": 100000,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.35.0.dev0",
          "use_cache": true,
          "vocab_size": 32256
        }
        """;

    private const string DeepSeekR1DistillQwen15b = """
        {
          "architectures": [
            "Qwen2ForCausalLM"
          ],
          "attention_dropout": 0.0,
          "bos_token_id": 151643,
          "eos_token_id": 151643,
          "hidden_act": "silu",
          "hidden_size": 1536,
          "initializer_range": 0.02,
          "intermediate_size": 8960,
          "max_position_embeddings": 131072,
          "max_window_layers": 21,
          "model_type": "qwen2",
          "num_attention_heads": 12,
          "num_hidden_layers": 28,
          "num_key_value_heads": 2,
          "rms_norm_eps": 1e-06,
          "rope_theta": 10000,
          "sliding_window": 4096,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.44.0",
          "use_cache": true,
          "use_mrope": false,
          "use_sliding_window": false,
          "vocab_size": 151936
        }
        """;

    private const string MetaLlama3_8bInstruct = """
        {
          "architectures": [
            "LlamaForCausalLM"
          ],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 128000,
          "eos_token_id": 128009,
          "hidden_act": "silu",
          "hidden_size": 4096,
          "initializer_range": 0.02,
          "intermediate_size": 14336,
          "max_position_embeddings": 8192,
          "model_type": "llama",
          "num_attention_heads": 32,
          "num_hidden_layers": 32,
          "num_key_value_heads": 8,
          "pretraining_tp": 1,
          "rms_norm_eps": 1e-05,
          "rope_scaling": null,
          "rope_theta": 500000.0,
          "tie_word_embeddings": false,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.40.0.dev0",
          "use_cache": true,
          "vocab_size": 128256
        }
        """;

    private const string Llama32_1b = """
        {
          "architectures": [
            "LlamaForCausalLM"
          ],
          "attention_bias": false,
          "attention_dropout": 0.0,
          "bos_token_id": 128000,
          "eos_token_id": 128001,
          "head_dim": 64,
          "hidden_act": "silu",
          "hidden_size": 2048,
          "initializer_range": 0.02,
          "intermediate_size": 8192,
          "max_position_embeddings": 131072,
          "mlp_bias": false,
          "model_type": "llama",
          "num_attention_heads": 32,
          "num_hidden_layers": 16,
          "num_key_value_heads": 8,
          "pretraining_tp": 1,
          "rms_norm_eps": 1e-05,
          "rope_scaling": {
            "factor": 32.0,
            "high_freq_factor": 4.0,
            "low_freq_factor": 1.0,
            "original_max_position_embeddings": 8192,
            "rope_type": "llama3"
          },
          "rope_theta": 500000.0,
          "tie_word_embeddings": true,
          "torch_dtype": "bfloat16",
          "transformers_version": "4.45.0.dev0",
          "use_cache": true,
          "vocab_size": 128256
        }
        """;

    private static LlamaConfig Load(string json)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("config.json"), json);
        return LlamaConfig.FromHuggingFace(dir.File("config.json"));
    }

    private static FurnaceException Fails(string json)
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("config.json"), json);
        return Assert.ThrowsAny<FurnaceException>(() => LlamaConfig.FromHuggingFace(dir.File("config.json")));
    }

    [Fact]
    public void DeepSeekLlm7bChat_MatchesThePreset()
    {
        var c = Load(DeepSeekLlm7bChat);
        Assert.Equal(LlamaConfig.Preset("deepseek-llm-7b"), c);
        Assert.Equal("llama", c.Architecture);
        Assert.Equal(128, c.HeadDim);
        Assert.Equal(32, c.KvHeads);
        Assert.Equal(4096, c.MaxPositions);
        Assert.Equal(1e-6f, c.RmsEps);
        Assert.Equal(10000f, c.RopeTheta);
        Assert.False(c.TiedEmbeddings);
        Assert.False(c.AttentionBias);
        Assert.Null(c.RopeScaling);
        Assert.Equal(1f, c.RopeLinearFactor);
    }

    [Fact]
    public void DeepSeekLlm67bChat_HasGroupedQueryAttention()
    {
        var c = Load(DeepSeekLlm67bChat);
        Assert.Equal(LlamaConfig.Preset("deepseek-llm-67b"), c);
        Assert.Equal((8192, 95, 64, 8, 128, 22016, 102400), (c.Dim, c.Layers, c.Heads, c.KvHeads, c.HeadDim, c.FfnDim, c.VocabSize));
    }

    [Fact]
    public void DeepSeekCoder67bInstruct_HasLinearRopeScaling()
    {
        var c = Load(DeepSeekCoder67bInstruct);
        Assert.Equal((4096, 32, 32, 32, 128, 11008, 32256, 16384), (c.Dim, c.Layers, c.Heads, c.KvHeads, c.HeadDim, c.FfnDim, c.VocabSize, c.MaxPositions));
        Assert.Equal(100000f, c.RopeTheta);
        Assert.Equal(4f, c.RopeLinearFactor);
        Assert.Null(c.RopeScaling);
        Assert.False(c.AttentionBias);
    }

    [Fact]
    public void DeepSeekR1DistillQwen15b_IsQwen2WithBiases()
    {
        var c = Load(DeepSeekR1DistillQwen15b);
        Assert.Equal(LlamaConfig.Preset("deepseek-r1-distill-qwen-1.5b"), c);
        Assert.Equal("qwen2", c.Architecture);
        Assert.Equal(RopeStyle.HalfSplit, c.RopeStyle);
        Assert.True(c.AttentionBias);
        Assert.False(c.TiedEmbeddings);
        Assert.Equal((1536, 28, 12, 2, 128, 8960, 151936, 131072), (c.Dim, c.Layers, c.Heads, c.KvHeads, c.HeadDim, c.FfnDim, c.VocabSize, c.MaxPositions));
        Assert.Equal(10000f, c.RopeTheta);
    }

    [Fact]
    public void MetaLlama3_8bInstruct_HasGqaAndRopeTheta500k()
    {
        var c = Load(MetaLlama3_8bInstruct);
        Assert.Equal((4096, 32, 32, 8, 128, 14336, 128256, 8192), (c.Dim, c.Layers, c.Heads, c.KvHeads, c.HeadDim, c.FfnDim, c.VocabSize, c.MaxPositions));
        Assert.Equal(1e-5f, c.RmsEps);
        Assert.Equal(500000f, c.RopeTheta);
        Assert.Null(c.RopeScaling);
        Assert.False(c.TiedEmbeddings);
    }

    [Fact]
    public void Llama32_1b_HasLlama3RopeScalingAndTiedEmbeddings()
    {
        var c = Load(Llama32_1b);
        Assert.Equal((2048, 16, 32, 8, 64, 8192, 128256, 131072), (c.Dim, c.Layers, c.Heads, c.KvHeads, c.HeadDim, c.FfnDim, c.VocabSize, c.MaxPositions));
        Assert.Equal(new Llama3RopeScaling(32f, 1f, 4f, 8192), c.RopeScaling);
        Assert.True(c.TiedEmbeddings);
        Assert.Equal(500000f, c.RopeTheta);
        Assert.Equal(RopeStyle.Interleaved, c.RopeStyle);
    }

    [Fact]
    public void Read_KeepsRawFieldsIncludingEosLists()
    {
        var raw = HfConfigFile.Parse(Encoding.UTF8.GetBytes(Llama32_1b.Replace("\"eos_token_id\": 128001", "\"eos_token_id\": [128001, 128008, 128009]")), "config.json");
        Assert.Equal(new[] { 128001, 128008, 128009 }, raw.EosTokenId);
        Assert.Equal("bfloat16", raw.TorchDtype);
        Assert.Equal("llama3", raw.RopeScaling!.Kind);
        Assert.Equal(new[] { 100001 }, HfConfigFile.Parse(Encoding.UTF8.GetBytes(DeepSeekLlm7bChat), "config.json").EosTokenId);
    }

    [Fact]
    public void Defaults_FollowTransformers()
    {
        var c = Load("""{"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100}""");
        Assert.Equal(4, c.KvHeads);
        Assert.Equal(16, c.HeadDim);
        Assert.Equal(1e-6f, c.RmsEps);
        Assert.Equal(10000f, c.RopeTheta);
        Assert.Equal(2048, c.MaxPositions);
        Assert.False(c.TiedEmbeddings);
        Assert.False(c.AttentionBias);
        var q = Load("""{"model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 128, "vocab_size": 100, "attention_bias": false}""");
        Assert.Equal("qwen2", q.Architecture);
        Assert.True(q.AttentionBias);
        Assert.Equal(32768, q.MaxPositions);
    }

    [Fact]
    public void Transformers5RopeParameters_AreRead()
    {
        var c = Load("""
            {"architectures": ["Qwen2ForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
             "intermediate_size": 128, "vocab_size": 100, "tie_word_embeddings": true,
             "rope_parameters": {"rope_theta": 1000000.0, "rope_type": "default"}}
            """);
        Assert.Equal(1000000f, c.RopeTheta);
        Assert.True(c.TiedEmbeddings);
    }

    [Fact]
    public void AttentionBias_IsHonouredForLlama()
    {
        Assert.True(Load(MetaLlama3_8bInstruct.Replace("\"attention_bias\": false", "\"attention_bias\": true")).AttentionBias);
    }

    [Fact]
    public void UnknownArchitecture_NamesItAndTheSupportedOnes()
    {
        var ex = Fails(DeepSeekLlm7bChat.Replace("LlamaForCausalLM", "DeepseekV2ForCausalLM"));
        Assert.EndsWith("config.json: architecture 'DeepseekV2ForCausalLM' is not supported (LlamaForCausalLM, Qwen2ForCausalLM)", ex.Message);
    }

    [Theory]
    [InlineData("hidden_size")]
    [InlineData("num_hidden_layers")]
    [InlineData("num_attention_heads")]
    [InlineData("intermediate_size")]
    [InlineData("vocab_size")]
    public void MissingRequiredField_IsNamed(string field)
    {
        string json = string.Join('\n', MetaLlama3_8bInstruct.Split('\n').Where(l => !l.Contains($"\"{field}\"")));
        Assert.EndsWith($"config.json: missing field '{field}'", Fails(json).Message);
    }

    [Theory]
    [InlineData("\"rope_scaling\": null", "\"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0}", "rope_scaling type 'yarn' is not supported")]
    [InlineData("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8.0}", "missing field 'rope_scaling.low_freq_factor'")]
    [InlineData("\"hidden_act\": \"silu\"", "\"hidden_act\": \"gelu\"", "hidden_act 'gelu' (only silu) is not supported")]
    [InlineData("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 5", "kv head count 5 must divide head count 32")]
    [InlineData("\"hidden_size\": 4096", "\"hidden_size\": \"big\"", "not a valid config at hidden_size")]
    [InlineData("\"hidden_size\": 4096", "\"hidden_size\": 4096,,", "not a valid config")]
    public void BadValues_AreReportedWithTheFile(string from, string to, string problem)
    {
        string json = MetaLlama3_8bInstruct.Replace(from, to);
        Assert.NotEqual(MetaLlama3_8bInstruct, json);
        var ex = Fails(json);
        Assert.Contains("config.json: ", ex.Message);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void MissingFile_IsAFurnaceException()
    {
        using var dir = new TempDir();
        Assert.Contains("file not found", Assert.Throws<FurnaceException>(() => LlamaConfig.FromHuggingFace(dir.File("config.json"))).Message);
    }
}
