// DeepSeekModel.FromHuggingFace against a plain-PyTorch float64 reference written from transformers'
// modeling_deepseek_v2.py / modeling_deepseek_v3.py semantics (Oracles/deepseek_reference.py: MLA with the DeepSeek
// de-interleave + rotate_half rope, YaRN with mscale/mscale_all_dim, MoEGate greedy / group_limited_greedy / noaux_tc,
// norm_topk_prob, routed_scaling_factor, shared experts, first_k_dense_replace) on tiny random HF directories.
// Tolerance: max |logit diff| / max |logit| <= 1e-4 (float32 against float64).
using System.Text.Json;
using Furnace.Models.DeepSeek;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeek;

public sealed class DeepSeekHfReferenceTests
{
    private static (double Rel, int GroupChoiceDiffers) Compare(DeepSeekConfig c, bool selectionBias, int seed, bool plainAsV2 = false)
    {
        using var dir = new TempDir();
        string hf = dir.File("hf"), req = dir.File("req.json"), res = dir.File("res.json");
        RandomDeepSeek.WriteHuggingFace(hf, c, seed, selectionBias, plainAsV2);
        var rng = new Random(seed);
        int[] tokens = Enumerable.Range(0, 24).Select(_ => rng.Next(3, c.VocabSize)).ToArray();
        File.WriteAllText(req, JsonSerializer.Serialize(new Dictionary<string, object> { ["model"] = hf, ["input_ids"] = tokens }));
        PyTorchOracle.Run("deepseek_reference.py", req, res);
        using var reference = JsonDocument.Parse(File.ReadAllBytes(res));
        double[] expected = reference.RootElement.GetProperty("logits").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();

        using var model = DeepSeekModel.FromHuggingFace(hf);
        var state = model.NewState(64, maxBatch: 32);
        using var ctx = new KernelContext(2);
        model.Forward(tokens, state, ctx, allLogits: true);
        Assert.Equal(expected.Length, tokens.Length * c.VocabSize);
        double maxDiff = 0, scale = expected.Max(Math.Abs);
        for (int i = 0; i < expected.Length; i++) maxDiff = Math.Max(maxDiff, Math.Abs(state.Logits[i] - expected[i]));
        Assert.True(expected.Max() - expected.Min() > 1.0, "degenerate test model: logits barely vary");
        Console.WriteLine($"{c.Gating} groups {c.ExpertGroups}: relative max |logit diff| {maxDiff / scale:E2}");
        return (maxDiff / scale, reference.RootElement.GetProperty("group_choice_differs").GetInt32());
    }

    [Theory]
    [InlineData("test-v2-lite")] // greedy softmax top-k, no q LoRA, 2 shared experts, YaRN mscale_all_dim 0.707
    [InlineData("test-v3")]      // noaux_tc: sigmoid + e_score_correction_bias, groups by sum of top two, norm, x2.5
    public void FromHuggingFace_Preset_MatchesPyTorchReferenceWithin1e4Relative(string preset)
    {
        var (rel, _) = Compare(DeepSeekConfig.Preset(preset), selectionBias: preset == "test-v3", seed: 21);
        Assert.True(rel <= 1e-4, $"relative max |logit diff| {rel:E3}");
    }

    [Theory]
    [InlineData(false, false)] // DeepseekForCausalLM (DeepSeek-MoE-16B): plain attention with GQA, V1 softmax gate
    [InlineData(false, true)]  // the same with norm_topk_prob (DeepseekForCausalLM never scales the routed weights)
    [InlineData(true, false)]  // DeepseekV2ForCausalLM use_mla false (deepseek-vl2-tiny): transformers' LlamaAttention, V2 gate
    public void FromHuggingFace_PlainAttention_MatchesPyTorchReferenceWithin1e4Relative(bool plainAsV2, bool norm)
    {
        var c = DeepSeekConfig.Preset("test-mha") with { ExpertWeightsNorm = norm };
        var (rel, _) = Compare(c, selectionBias: false, seed: 23, plainAsV2);
        Assert.True(rel <= 1e-4, $"relative max |logit diff| {rel:E3}");
    }

    [Fact]
    public void FromHuggingFace_V2GroupLimitedGreedy_ScoresGroupsByMaxAsHfNotBySumOfTopTwo()
    {
        // DeepSeek-V2's group_limited_greedy: 8 experts in 4 groups of 2, 2 groups kept. HF scores a group by its max,
        // llama.cpp (and so every deepseek2 GGUF) by the sum of its top two; the reference counts the routings where
        // the two rules keep different groups, so this model really tells them apart.
        var c = DeepSeekConfig.Preset("test-v2-lite") with { ExpertGroups = 4, ExpertGroupsUsed = 2 };
        var (rel, differs) = Compare(c, selectionBias: false, seed: 22);
        Assert.True(differs > 0, "no routing where max and sum-of-top-two group scores disagree: the case tests nothing");
        Assert.True(rel <= 1e-4, $"relative max |logit diff| {rel:E3} ({differs} routings where the group rules disagree)");
    }

    [Fact]
    public void FromHf_V2NormTopkProb_DoesNotScaleAsHfV2()
    {
        // HF V2 multiplies by routed_scaling_factor only when it does not normalise; V3 normalises and then scales
        var v2 = Furnace.Formats.HfConfig.HfConfigFile.Parse("""
            {"architectures": ["DeepseekV2ForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4,
             "vocab_size": 320, "max_position_embeddings": 512, "kv_lora_rank": 32, "qk_nope_head_dim": 32,
             "qk_rope_head_dim": 16, "v_head_dim": 32, "intermediate_size": 160, "n_routed_experts": 8,
             "num_experts_per_tok": 2, "moe_intermediate_size": 32, "routed_scaling_factor": 16.0, "norm_topk_prob": true,
             "topk_method": "group_limited_greedy", "n_group": 4, "topk_group": 2}
            """u8, "config.json");
        DeepSeekConfig c = DeepSeekConfig.FromHf(v2, "config.json");
        Assert.Equal(1f, c.ExpertWeightsScale);
        Assert.True(c.ExpertWeightsNorm);
        Assert.Equal(ExpertGroupScore.Max, c.GroupScore);
    }
}
