// LlavaConfig from config.json (transformers' LlavaConfig defaults and the fields we refuse), and the generator's
// embeddings entry point: a prompt given as its own token embeddings generates exactly what the token ids do.
using System.Text;
using Furnace.Generation;
using Furnace.Models.Clip;
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models;

public sealed class LlavaConfigTests
{
    private static string Json(string extra = "") =>
        $$$"""{"architectures": ["LlavaForConditionalGeneration"], {{{extra}}} "vision_config": {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4, "image_size": 32, "patch_size": 8}, "text_config": {"model_type": "llama", "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 96, "vocab_size": 320, "max_position_embeddings": 256, "rms_norm_eps": 1e-5}}""";

    [Fact]
    public void Defaults_AreLlava15s()
    {
        var c = LlavaConfig.Parse(Encoding.UTF8.GetBytes(Json()), "config.json");
        Assert.Equal(-2, c.VisionFeatureLayer);
        Assert.Equal(VisionFeatureStrategy.Default, c.FeatureStrategy);
        Assert.Equal(32000, c.ImageTokenIndex);
        Assert.Equal(16, c.ImageSeqLength);
        Assert.Equal(64, c.Text.Dim);
        var full = LlavaConfig.Parse(Encoding.UTF8.GetBytes(Json("\"vision_feature_select_strategy\": \"full\", \"image_seq_length\": 17, \"image_token_index\": 5,")), "config.json");
        Assert.Equal(17, full.ImageSeqLength);
        Assert.Equal(5, full.ImageTokenIndex);
    }

    [Theory]
    [InlineData("\"vision_feature_layer\": [-2, -5],", "vision_feature_layer")]
    [InlineData("\"vision_feature_select_strategy\": \"cls\",", "vision_feature_select_strategy 'cls'")]
    [InlineData("\"projector_hidden_act\": \"relu\",", "projector_hidden_act 'relu'")]
    [InlineData("\"image_seq_length\": 576,", "image_seq_length 576")]
    [InlineData("\"vision_feature_layer\": -9,", "vision_feature_layer -9")]
    public void Refuses_WhatItCannotRun(string extra, string message)
    {
        var e = Assert.Throws<FurnaceException>(() => LlavaConfig.Parse(Encoding.UTF8.GetBytes(Json(extra)), "config.json"));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("config.json", e.Message);
    }

    [Fact]
    public void RoundTrips_ThroughToHfConfigJson()
    {
        var (vision, c) = RandomLlava.TestTiny();
        var back = LlavaConfig.Parse(c.ToHfConfigJson(vision), "written");
        Assert.Equal(c.Vision, back.Vision);
        Assert.Equal(c.Text, back.Text);
        Assert.Equal(c.ImageTokenIndex, back.ImageTokenIndex);
    }

    [Fact]
    public void EmbeddingsPrompt_GeneratesAsTheTokenPrompt()
    {
        using var dir = new TempDir();
        var cfg = LlamaConfig.Preset("test-tiny");
        RandomLlama.WriteHuggingFace(dir.Path, cfg, DType.F32, seed: 2);
        HfTokenizerJson.WriteSynthetic(dir.Path, cfg.VocabSize);
        using var lm = Furnace.Models.LanguageModel.Open(dir.Path);
        using var ctx = new KernelContext(1);
        int[] ids = lm.Tokenizer.Encode("hello there", addSpecial: true);
        var emb = new float[ids.Length * cfg.Dim];
        lm.Model.Embed(ids, emb);
        var options = new GenerationOptions { MaxTokens = 12, IgnoreEos = true, Sampling = SamplingOptions.Greedy };
        var gen = new Generator(lm.Model, lm.Tokenizer, ctx, 128);
        var fromIds = gen.Generate(ids, options);
        var fromEmb = gen.GenerateEmbeddings(emb, ids, options);
        Assert.Equal(fromIds.TokenIds, fromEmb.TokenIds);
        Assert.Equal(fromIds.Text, fromEmb.Text);
        Assert.Equal(12, fromEmb.TokenIds.Count);
    }
}
