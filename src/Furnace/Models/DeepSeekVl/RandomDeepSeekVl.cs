// Seeded random-weight DeepSeek-VL checkpoints in the published deepseek-vl-1.3b layout (MultiModalityCausalLM):
// config.json (model_type multi_modality, vision_config {cls CLIPVisionTower, params}, aligner_config {cls
// MlpProjector, params}, language_config), processor_config.json, preprocessor_config.json (VLMImageProcessor,
// SigLIP's 0.5/0.5), model.safetensors with vision_model.vision_tower.* in timm naming (plus the attn_pool.* head the
// real checkpoints carry and the tower ignores), aligner.layers.{0,2}.* and language_model.*, and a byte-level BPE
// tokenizer.json (one token per byte, no merges; BOS, EOS and <image_placeholder> as added special tokens; BOS added
// by the post-processor and add_bos_token) so a reference can tokenize without the tokenizers library.
using System.Text;
using System.Text.Json.Nodes;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Tokenizers;
using Furnace.IO;
using Furnace.Models.Llama;
using Furnace.Models.Sam;
using Furnace.Models.Siglip;
using Furnace.Tensors;

namespace Furnace.Models.DeepSeekVl;

public static class RandomDeepSeekVl
{
    public const string Bos = "<｜begin▁of▁sentence｜>";
    public const string Eos = "<｜end▁of▁sentence｜>";
    public const string ImageTag = "<image_placeholder>";

    /// <summary>The tiny test shape: a 32 px SigLIP tower (patch 8: 16 tokens, width 64, 3 blocks, 4 heads, mlp_ratio 3.7362 → 239), mlp_gelu depth 2, Llama test-tiny (64-d, vocab 320, 1024 positions).</summary>
    public static DeepSeekVlConfig TestTiny(int selectLayer = -1) => new()
    {
        Vision = new SiglipVisionConfig { Width = 64, Layers = 3, Heads = 4, MlpDim = SiglipVisionConfig.MlpDimOf(64, 3.7362), PatchSize = 8, ImageSize = 32, SelectLayer = selectLayer },
        VisionModelName = "siglip_test_tiny",
        Aligner = DeepSeekVlAligner.MlpGelu,
        AlignerDepth = 2,
        Text = LlamaConfig.Preset("test-tiny") with { MaxPositions = 1024 }, // the byte-level prompt with its system prompt is ~300 positions
    };

    /// <summary>
    /// The tiny 7B-hybrid shape: a SAM tower at 128 px (patch 16, width 32, 4 blocks, 2 heads, window 4, global blocks 1
    /// and 3, out 16, downsamples 32, 64, CLIP mean/std inside: 24×24×64 after the fixed 96 resize), a SigLIP tower at
    /// 96 px (patch 4: 576 tokens, width 64, 2 blocks, 4 heads, 0.5/0.5 inside), the hybrid aligner (64 → 64, depth 2),
    /// Llama test-tiny with 2048 positions (576 image rows + the system prompt).
    /// </summary>
    public static DeepSeekVlConfig TestTinyHybrid() => new()
    {
        Vision = new SiglipVisionConfig { Width = 64, Layers = 2, Heads = 4, MlpDim = SiglipVisionConfig.MlpDimOf(64, 3.7362), PatchSize = 4, ImageSize = 96, SelectLayer = -1 },
        VisionModelName = "siglip_test_tiny",
        PixelMean = [0.5, 0.5, 0.5],
        PixelStd = [0.5, 0.5, 0.5],
        Aligner = DeepSeekVlAligner.HybridSplit,
        AlignerDepth = 2,
        HighRes = new SamVitConfig
        {
            ImageSize = 128, Width = 32, Layers = 4, Heads = 2, WindowSize = 4, GlobalAttnIndexes = [1, 3], OutChans = 16, DownsampleChannels = [32, 64],
            PixelMean = [0.48145466f, 0.4578275f, 0.40821073f], PixelStd = [0.26862954f, 0.26130258f, 0.27577711f],
        },
        HybridAligner = new HybridAlignerConfig { InputDim = 64, NEmbed = 64, Depth = 2 },
        Text = LlamaConfig.Preset("test-tiny") with { MaxPositions = 2048 },
    };

    /// <summary>Writes the directory; type F32 or BF16 (the published checkpoints' dtype) for every tensor.</summary>
    public static void Write(string dir, DeepSeekVlConfig c, int seed, DType type = DType.F32)
    {
        if (type is not (DType.F32 or DType.BF16 or DType.F16)) throw new ArgumentException($"{type} is not a safetensors float type", nameof(type));
        Directory.CreateDirectory(dir);
        SiglipVisionConfig v = c.Vision;
        var vparams = new JsonObject
        {
            ["image_size"] = v.ImageSize,
            ["model_name"] = c.VisionModelName,
            ["select_feature"] = "same",
            ["select_layer"] = v.SelectLayer,
        };
        if (c.VisionModelName == null || !SiglipVisionConfig.DeepSeekModels.ContainsKey(c.VisionModelName))
        {
            // sizes the model_name table does not know: explicit keys (mlp_ratio chosen so int(width · ratio) = MlpDim)
            vparams["width"] = v.Width;
            vparams["layers"] = v.Layers;
            vparams["heads"] = v.Heads;
            vparams["patch_size"] = v.PatchSize;
            vparams["mlp_ratio"] = v.MlpDim == SiglipVisionConfig.MlpDimOf(v.Width, 3.7362) ? 3.7362 : (double)v.MlpDim / v.Width;
        }
        if (c.PixelMean != null && c.PixelStd != null)
        {
            vparams["pixel_mean"] = new JsonArray(c.PixelMean.Select(x => JsonValue.Create(x)).ToArray<JsonNode?>());
            vparams["pixel_std"] = new JsonArray(c.PixelStd.Select(x => JsonValue.Create(x)).ToArray<JsonNode?>());
        }
        SamVitConfig? high = c.HighRes;
        if (high != null && c.HybridAligner == null) throw new ArgumentException("a hybrid config needs HybridAligner", nameof(c));
        JsonObject vision = high == null
            ? new JsonObject { ["cls"] = "CLIPVisionTower", ["model_type"] = "vision", ["params"] = vparams }
            : new JsonObject
            {
                ["cls"] = "HybridVisionTower",
                ["model_type"] = "vision",
                ["params"] = new JsonObject
                {
                    ["concat_type"] = "tuple",
                    ["freeze_high"] = true,
                    ["freeze_low"] = true,
                    ["high_res_cfg"] = HighResCfg(high),
                    ["low_res_cfg"] = vparams,
                },
            };
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("MultiModalityCausalLM"),
            ["model_type"] = DeepSeekVlConfig.ModelType,
            ["vision_config"] = vision,
            ["aligner_config"] = new JsonObject
            {
                ["cls"] = "MlpProjector",
                ["model_type"] = "aligner",
                ["params"] = new JsonObject
                {
                    ["depth"] = c.AlignerDepth,
                    ["input_dim"] = c.HybridAligner?.InputDim ?? v.Width,
                    ["n_embed"] = c.Text.Dim,
                    ["projector_type"] = c.Aligner switch
                    {
                        DeepSeekVlAligner.Linear => "linear",
                        DeepSeekVlAligner.HybridSplit => HybridAlignerConfig.ProjectorType,
                        _ => "mlp_gelu",
                    },
                },
            },
            ["language_config"] = JsonNode.Parse(c.Text.ToHfConfigJson()),
            ["torch_dtype"] = type == DType.BF16 ? "bfloat16" : type == DType.F16 ? "float16" : "float32",
        };
        WriteText(dir, "config.json", config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
        WriteText(dir, DeepSeekVlProcessorConfig.FileName, $$"""
        {
          "add_special_token": false,
          "ignore_id": -100,
          "image_tag": "{{ImageTag}}",
          "mask_prompt": true,
          "num_image_tokens": {{v.Patches}},
          "processor_class": "VLChatProcessor",
          "sft_format": "deepseek"
        }
        """);
        // the hybrid's processor leaves pixels in [0, 1] (do_normalize false; the mean only sets the pad colour): each tower normalises itself
        WriteText(dir, "preprocessor_config.json", $$"""
        {
          "background_color": [127, 127, 127],
          "do_normalize": {{(high == null ? "true" : "false")}},
          "image_mean": {{(high == null ? "[0.5, 0.5, 0.5]" : "[0.48145466, 0.4578275, 0.40821073]")}},
          "image_processor_type": "VLMImageProcessor",
          "image_size": {{c.InputSize}},
          "image_std": {{(high == null ? "[0.5, 0.5, 0.5]" : "[0.26862954, 0.26130258, 0.27577711]")}},
          "min_size": 14,
          "processor_class": "VLChatProcessor",
          "rescale_factor": 0.00392156862745098
        }
        """);
        WriteTokenizer(dir, c.Text.VocabSize);

        var w = new SafeTensorsWriter().AddMetadata("format", "pt");
        int d = v.Width, p = v.PatchSize, ffn = v.MlpDim;
        string t = high == null ? "vision_model.vision_tower." : "vision_model.vision_tower_low.vision_tower.";
        void Add(string name, long[] shape, float center, float amplitude) =>
            w.Add(name, shape, SeededUniform.Values(shape.Aggregate(1L, (a, b) => a * b), seed, name, center, amplitude), type);
        float Fan(int fanIn) => 0.5f * MathF.Sqrt(3f / fanIn);
        Add(t + "patch_embed.proj.weight", [d, v.Channels, p, p], 0, Fan(v.PatchValues));
        Add(t + "patch_embed.proj.bias", [d], 0, 0.1f);
        Add(t + "pos_embed", [1, v.Patches, d], 0, 0.5f);
        for (int i = 0; i < v.Layers; i++)
        {
            string b = $"{t}blocks.{i}.";
            Add(b + "norm1.weight", [d], 1, 0.2f);
            Add(b + "norm1.bias", [d], 0, 0.1f);
            Add(b + "attn.qkv.weight", [3 * d, d], 0, Fan(d));
            Add(b + "attn.qkv.bias", [3 * d], 0, 0.1f);
            Add(b + "attn.proj.weight", [d, d], 0, Fan(d));
            Add(b + "attn.proj.bias", [d], 0, 0.1f);
            Add(b + "norm2.weight", [d], 1, 0.2f);
            Add(b + "norm2.bias", [d], 0, 0.1f);
            Add(b + "mlp.fc1.weight", [ffn, d], 0, Fan(d));
            Add(b + "mlp.fc1.bias", [ffn], 0, 0.1f);
            Add(b + "mlp.fc2.weight", [d, ffn], 0, Fan(ffn));
            Add(b + "mlp.fc2.bias", [d], 0, 0.1f);
        }
        Add(t + "norm.weight", [d], 1, 0.2f);
        Add(t + "norm.bias", [d], 0, 0.1f);
        // timm's AttentionPoolLatent head, present in the published checkpoints and unused by the feature path
        Add(t + "attn_pool.latent", [1, 1, d], 0, 0.5f);
        Add(t + "attn_pool.q.weight", [d, d], 0, Fan(d));
        Add(t + "attn_pool.kv.weight", [2 * d, d], 0, Fan(d));
        Add(t + "attn_pool.proj.weight", [d, d], 0, Fan(d));
        Add(t + "attn_pool.norm.weight", [d], 1, 0.2f);

        int e = c.Text.Dim;
        if (high != null)
        {
            foreach (var (n, shape, values) in RandomSam.Tower(high, seed)) w.Add(SamCheckpointNames.Tower(SamCheckpointNaming.DeepSeekVl, n), shape, values, type);
            foreach (var (n, shape, values) in RandomHybridAligner.Tensors(c.HybridAligner! with { NEmbed = e, Depth = c.AlignerDepth }, seed))
                w.Add("aligner." + n, shape, values, type);
        }
        else if (c.Aligner == DeepSeekVlAligner.Linear)
        {
            Add("aligner.layers.weight", [e, d], 0, Fan(d));
            Add("aligner.layers.bias", [e], 0, 0.1f);
        }
        else
        {
            Add("aligner.layers.0.weight", [e, d], 0, Fan(d));
            Add("aligner.layers.0.bias", [e], 0, 0.1f);
            if (c.AlignerDepth == 2)
            {
                Add("aligner.layers.2.weight", [e, e], 0, Fan(e));
                Add("aligner.layers.2.bias", [e], 0, 0.1f);
            }
        }
        foreach (var n in LlamaTensorNames.All(c.Text))
            w.Add("language_model." + n.Hf, n.Shape, RandomLlama.Tensor(c.Text, n.Hf, seed), type);
        w.Write(Path.Combine(dir, SafeTensorsCheckpoint.SingleFileName));
    }

    // high_res_cfg as DeepSeek-VL 7B writes it, plus the explicit size keys (create_sam_vit ignores them; SamVitConfig.FromParams reads them)
    private static JsonObject HighResCfg(SamVitConfig h)
    {
        var o = new JsonObject
        {
            ["image_size"] = h.ImageSize,
            ["model_name"] = h.ModelName,
            ["output_dim"] = h.OutputChannels,
            ["select_feature"] = "same",
            ["select_layer"] = -1,
            ["width"] = h.Width,
            ["layers"] = h.Layers,
            ["heads"] = h.Heads,
            ["patch_size"] = h.PatchSize,
            ["window_size"] = h.WindowSize,
            ["mlp_ratio"] = h.MlpRatio,
            ["global_attn_indexes"] = new JsonArray(h.GlobalAttnIndexes.Select(x => JsonValue.Create(x)).ToArray<JsonNode?>()),
            ["out_chans"] = h.OutChans,
            ["downsample_channels"] = new JsonArray(h.DownsampleChannels.Select(x => JsonValue.Create(x)).ToArray<JsonNode?>()),
        };
        if (h.PixelMean != null && h.PixelStd != null)
        {
            o["pixel_mean"] = new JsonArray(h.PixelMean.Select(x => JsonValue.Create(x)).ToArray<JsonNode?>());
            o["pixel_std"] = new JsonArray(h.PixelStd.Select(x => JsonValue.Create(x)).ToArray<JsonNode?>());
        }
        return o;
    }

    // 256 byte tokens (id = byte value), BOS/EOS/<image_placeholder> next, then filler two-byte tokens up to vocabSize
    // that no merge produces (the decoder may still pick them; they decode to their two bytes)
    private static void WriteTokenizer(string dir, int vocabSize)
    {
        if (vocabSize < 259) throw new ArgumentException($"a vocabulary of {vocabSize} cannot hold 256 bytes and 3 special tokens");
        var vocab = new JsonObject();
        for (int b = 0; b < 256; b++) vocab[ByteLevel.ByteToChar[b].ToString()] = b;
        string[] specials = [Bos, Eos, ImageTag];
        for (int i = 0; i < specials.Length; i++) vocab[specials[i]] = 256 + i;
        for (int id = 259, k = 0; id < vocabSize; id++, k++)
            vocab[$"{ByteLevel.ByteToChar['a' + k % 26]}{ByteLevel.ByteToChar['a' + k / 26 % 26]}{ByteLevel.ByteToChar['0' + k / 676 % 10]}"] = id;
        var added = new JsonArray();
        for (int i = 0; i < specials.Length; i++)
            added.Add(new JsonObject
            {
                ["id"] = 256 + i, ["content"] = specials[i], ["single_word"] = false, ["lstrip"] = false, ["rstrip"] = false,
                ["normalized"] = i == 2, ["special"] = true,
            });
        JsonObject Bytelevel() => new() { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        var tok = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = Bytelevel(),
            ["post_processor"] = new JsonObject
            {
                ["type"] = "TemplateProcessing",
                ["single"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = Bos, ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } }),
                ["pair"] = new JsonArray(
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = Bos, ["type_id"] = 0 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "A", ["type_id"] = 0 } },
                    new JsonObject { ["SpecialToken"] = new JsonObject { ["id"] = Bos, ["type_id"] = 1 } },
                    new JsonObject { ["Sequence"] = new JsonObject { ["id"] = "B", ["type_id"] = 1 } }),
                ["special_tokens"] = new JsonObject
                {
                    [Bos] = new JsonObject { ["id"] = Bos, ["ids"] = new JsonArray(256), ["tokens"] = new JsonArray(Bos) },
                },
            },
            ["decoder"] = Bytelevel(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false,
                ["vocab"] = vocab, ["merges"] = new JsonArray(),
            },
        };
        WriteText(dir, "tokenizer.json", tok.ToJsonString());
        WriteText(dir, "tokenizer_config.json", $$"""
        {
          "add_bos_token": true,
          "add_eos_token": false,
          "bos_token": "{{Bos}}",
          "eos_token": "{{Eos}}",
          "legacy": true,
          "model_max_length": 16384,
          "pad_token": null,
          "tokenizer_class": "LlamaTokenizerFast"
        }
        """);
    }

    private static void WriteText(string dir, string name, string text) =>
        AtomicFile.Write(Path.Combine(dir, name), s => s.Write(Encoding.UTF8.GetBytes(text)));
}
