// DeepSeekVl2Config / DeepSeekVl2ProcessorConfig: the published layouts parse with DeepSeek's class defaults, and
// every bad value fails with one line naming the key.
using Furnace.Models.DeepSeekVl2;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeekVl2;

public sealed class DeepSeekVl2ConfigTests
{
    // deepseek-vl2-small's shape: projector_config names only n_embed, vision_config omits heads and image_size.
    private const string Language = """
        {"architectures": ["DeepseekV2ForCausalLM"], "model_type": "deepseek_v2", "hidden_size": 2048, "intermediate_size": 10944,
         "kv_lora_rank": 512, "q_lora_rank": null, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
         "max_position_embeddings": 4096, "moe_intermediate_size": 1408, "n_routed_experts": 64, "n_shared_experts": 2,
         "num_attention_heads": 16, "num_experts_per_tok": 6, "num_hidden_layers": 27, "num_key_value_heads": 16,
         "first_k_dense_replace": 1, "topk_method": "greedy", "vocab_size": 102400, "use_mla": true}
        """;

    private static string Config(string projector = """{"model_type": "mlp_projector", "n_embed": 2048}""", string tile = "\"tile_tag\": \"2D\",",
        string pos = "\"global_view_pos\": \"head\",", string candidates = "[[384, 384], [384, 768], [768, 384], [768, 768]]", string language = Language) => $$"""
        {"architectures": ["DeepseekVLV2ForCausalLM"], "model_type": "deepseek_vl_v2", {{tile}} {{pos}}
         "candidate_resolutions": {{candidates}},
         "vision_config": {"layers": 27, "mlp_ratio": 3.7362, "model_name": "siglip_so400m_patch14_384", "model_type": "vision", "patch_size": 14, "width": 1152},
         "projector_config": {{projector}},
         "language_config": {{language}}}
        """;

    [Fact]
    public void Parse_PublishedSmallLayout_AppliesDeepSeekClassDefaults()
    {
        var c = DeepSeekVl2Config.Parse(Config(), "config.json");
        Assert.Equal(new DeepSeekVl2VisionConfig("siglip_so400m_patch14_384", 384, 14, 1152, 27, 16, 3.7362, "map", false), c.Vision);
        Assert.Equal(4304, c.Vision.MlpDim);
        Assert.Equal(new DeepSeekVl2ProjectorConfig(1152, 2048, 2, 1, 2), c.Projector);
        Assert.Equal(4608, c.Projector.UnfoldedDim);
        Assert.Equal(2, c.Projector.LinearCount);
        Assert.Equal(GlobalViewPosition.Head, c.GlobalViewPos);
        Assert.Equal([(384, 384), (384, 768), (768, 384), (768, 768)], c.CandidateResolutions);
        Assert.Equal(2048, c.Language.Dim);
        Assert.Equal(64, c.Language.Experts);
        Assert.Equal(1, c.Language.LeadingDenseLayers);
    }

    [Fact]
    public void Parse_GlobalViewTail_ReadsTail() =>
        Assert.Equal(GlobalViewPosition.Tail, DeepSeekVl2Config.Parse(Config(pos: "\"global_view_pos\": \"tail\","), "c").GlobalViewPos);

    [Theory]
    [InlineData("{\"projector_type\": \"mlp_gelu\", \"n_embed\": 2048}", "projector_config.projector_type")]
    [InlineData("{\"projector_type\": \"low_high_hybrid_split_mlp_gelu\", \"n_embed\": 2048}", "projector_config.projector_type")]
    [InlineData("{\"n_embed\": 2048, \"depth\": 0}", "projector_config.depth")]
    [InlineData("{\"n_embed\": 2048, \"input_dim\": 1024}", "projector_config.input_dim")]
    [InlineData("{\"n_embed\": 1024}", "projector_config.n_embed")]
    [InlineData("{\"n_embed\": \"wide\"}", "projector_config.n_embed")]
    [InlineData("{\"n_embed\": 2048, \"token_pooling\": true}", "projector_config.token_pooling")]
    public void Parse_BadProjector_FailsNamingKey(string projector, string key)
    {
        var e = Assert.ThrowsAny<FurnaceException>(() => DeepSeekVl2Config.Parse(Config(projector: projector), "dir/config.json"));
        Assert.Contains(key, e.Message);
        Assert.StartsWith("dir/config.json", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("\"tile_tag\": \"1D\",", "tile_tag")]
    [InlineData("\"tile_tag\": \"3D\",", "tile_tag")]
    [InlineData("", "tile_tag")]
    public void Parse_BadTileTag_FailsNamingKey(string tile, string key)
    {
        var e = Assert.ThrowsAny<FurnaceException>(() => DeepSeekVl2Config.Parse(Config(tile: tile), "config.json"));
        Assert.Contains($"'{key}'", e.Message);
    }

    [Theory]
    [InlineData("\"global_view_pos\": \"middle\",", "[[384, 384]]", "global_view_pos")]
    [InlineData("", "[[384, 384], [384, 700]]", "candidate_resolutions[1]")]
    [InlineData("", "[]", "candidate_resolutions")]
    [InlineData("", "[[384]]", "candidate_resolutions[0]")]
    public void Parse_BadLayoutKeys_FailsNamingKey(string pos, string candidates, string key)
    {
        var e = Assert.ThrowsAny<FurnaceException>(() => DeepSeekVl2Config.Parse(Config(pos: pos, candidates: candidates), "config.json"));
        Assert.Contains($"'{key}'", e.Message);
    }

    [Fact]
    public void Parse_LanguageWithoutMla_GivesPlainAttentionWithHeadWidthHiddenOverHeads()
    {
        // deepseek-vl2-tiny: use_mla false, kv_lora_rank null (transformers' LlamaAttention: head_dim = hidden / heads)
        string tiny = Language.Replace("\"use_mla\": true", "\"use_mla\": false").Replace("\"kv_lora_rank\": 512", "\"kv_lora_rank\": null");
        var lang = DeepSeekVl2Config.Parse(Config(language: tiny), "config.json").Language;
        Assert.False(lang.Mla);
        Assert.Equal(128, lang.QkHeadDim);
        Assert.Equal(16, lang.KvHeads);
        Assert.Equal(0, lang.KvLoraRank);
        Assert.Equal("deepseek", lang.Architecture);
    }

    [Fact]
    public void Parse_LanguageMissingField_FailsNamingLanguageConfig()
    {
        string bad = Language.Replace("\"num_experts_per_tok\": 6,", "");
        var e = Assert.ThrowsAny<FurnaceException>(() => DeepSeekVl2Config.Parse(Config(language: bad), "config.json"));
        Assert.Contains("language_config", e.Message);
        Assert.Contains("num_experts_per_tok", e.Message);
    }

    private const string Processor = """
        {"add_special_token": false, "candidate_resolutions": [[384, 384], [384, 768], [768, 384]], "downsample_ratio": 2,
         "ignore_id": -100, "image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "image_token": "<image>",
         "mask_prompt": false, "normalize": true, "pad_token": "<｜▁pad▁｜>", "patch_size": 14,
         "processor_class": "DeepseekVLV2Processor", "sft_format": "deepseek"}
        """;

    [Fact]
    public void ParseProcessor_PublishedLayout_ReadsEveryField()
    {
        var p = DeepSeekVl2ProcessorConfig.Parse(Processor, "processor_config.json");
        Assert.Equal(384, p.ImageSize);
        Assert.Equal(14, p.PatchSize);
        Assert.Equal(2, p.DownsampleRatio);
        Assert.Equal([127, 127, 127], p.PadColor); // int(0.5 * 255)
        Assert.Equal("<image>", p.ImageToken);
        Assert.Equal("<｜▁pad▁｜>", p.PadToken);
        Assert.Equal(14, DeepSeekVl2Tiling.TokensPerSide(p)); // ceil(27 / 2)
    }

    [Theory]
    [InlineData("\"patch_size\": 14,", "", "patch_size")]
    [InlineData("\"downsample_ratio\": 2,", "", "downsample_ratio")]
    [InlineData("\"sft_format\": \"deepseek\"", "\"sft_format\": \"deepseekv2\"", "sft_format")]
    [InlineData("\"image_mean\": [0.5, 0.5, 0.5]", "\"image_mean\": [0.5, 0.5]", "image_mean")]
    [InlineData("\"image_std\": [0.5, 0.5, 0.5]", "\"image_std\": [0.5, 0, 0.5]", "image_std")]
    [InlineData("\"processor_class\": \"DeepseekVLV2Processor\"", "\"processor_class\": \"VLChatProcessor\"", "processor_class")]
    public void ParseProcessor_BadKey_FailsNamingKey(string from, string to, string key)
    {
        var e = Assert.ThrowsAny<FurnaceException>(() => DeepSeekVl2ProcessorConfig.Parse(Processor.Replace(from, to), "processor_config.json"));
        Assert.Contains($"'{key}'", e.Message);
        Assert.StartsWith("processor_config.json", e.Message);
    }

    [Fact]
    public void LoadProcessor_MissingFile_FailsNamingFile()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<FurnaceException>(() => DeepSeekVl2ProcessorConfig.Load(dir.Path));
        Assert.Contains("processor_config.json: file not found", e.Message);
    }

    [Fact]
    public void CheckAgainst_PatchSizeDisagrees_FailsNamingBothKeys()
    {
        var c = DeepSeekVl2Config.Parse(Config(), "config.json");
        var p = DeepSeekVl2ProcessorConfig.Parse(Processor.Replace("\"patch_size\": 14", "\"patch_size\": 16"), "processor_config.json");
        var e = Assert.Throws<FurnaceException>(() => p.CheckAgainst(c, "processor_config.json"));
        Assert.Contains("'patch_size' 16", e.Message);
        Assert.Contains("vision_config.patch_size", e.Message);
    }
}
