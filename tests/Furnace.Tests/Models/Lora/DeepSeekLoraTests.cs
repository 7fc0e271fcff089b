// PEFT LoRA adapters on DeepSeek-V2/V3 decoders (DeepSeekLora): merged at load into the MLA projections (q or
// q_a/q_b, kv_a_proj_with_mqa, kv_b_proj split per head into the absorbed W_UK^T / W_UV, o_proj), the dense MLPs,
// every routed expert and the shared experts, from an HF directory and from its GGUF, against an UNMERGED float64
// PyTorch forward (Oracles/deepseek_reference.py with "adapter": y = x·Wᵀ + scale·(x·Aᵀ)·Bᵀ on every adapted linear).
// Tolerance: max |logit diff| / max |logit| <= 1e-4, as the base model's own reference test.
using System.Text.Json;
using Furnace.Formats.Gguf;
using Furnace.Models;
using Furnace.Models.DeepSeek;
using Furnace.Models.Lora;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.Lora;

public sealed class DeepSeekLoraTests
{
    private static readonly int[] Tokens = Enumerable.Range(0, 16).Select(i => 3 + i * 37 % 300).ToArray();

    private static LoraAdapter Adapter(DeepSeekConfig c, string targets, int seed = 5) =>
        DeepSeekLora.Create(new LoraConfig { Rank = 4, Alpha = 8, Targets = LoraTargets.Parse(targets) }.Validated("test"), c, seed, randomB: true);

    private static float[] Logits(IDecoder m)
    {
        using var ctx = new KernelContext(2);
        var s = m.NewDecoderState(32, maxBatch: 16);
        m.Forward(Tokens, s, ctx, allLogits: true);
        return s.Logits.AsSpan(0, Tokens.Length * m.VocabSize).ToArray();
    }

    private static double[] Reference(TempDir dir, string model, string? adapter, float multiplier)
    {
        string req = dir.File("req.json"), res = dir.File("res.json");
        File.WriteAllText(req, JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = model, ["adapter"] = adapter, ["multiplier"] = multiplier, ["input_ids"] = Tokens,
        }));
        PyTorchOracle.Run("deepseek_reference.py", req, res);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(res));
        return doc.RootElement.GetProperty("logits").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble())).ToArray();
    }

    private static double Relative(float[] got, double[] expected)
    {
        Assert.Equal(expected.Length, got.Length);
        double max = 0, scale = expected.Max(Math.Abs);
        for (int i = 0; i < got.Length; i++) max = Math.Max(max, Math.Abs(got[i] - expected[i]));
        return max / scale;
    }

    [Theory]
    [InlineData("test-v3", "all-linear", 1f)]      // q_a/q_b, kv_a, kv_b, o, dense MLP, 16 experts, shared expert
    [InlineData("test-v2-lite", "all-linear", 0.5f)] // plain q_proj, 2 shared experts
    [InlineData("test-v3", "kv_b_proj,up_proj", 1f)] // kv_b alone (the per-head split) and expert/shared/dense up_proj
    public void OpenDecoder_HfAndGgufWithAdapter_MatchUnmergedPyTorch(string preset, string targets, float multiplier)
    {
        using var dir = new TempDir();
        DeepSeekConfig c = DeepSeekConfig.Preset(preset);
        bool bias = preset == "test-v3";
        string hf = dir.File("hf"), gguf = dir.File("m.gguf"), ad = dir.File("adapter");
        RandomDeepSeek.WriteHuggingFace(hf, c, seed: 9, selectionBias: bias);
        RandomDeepSeek.WriteGguf(gguf, c, DType.F32, seed: 9, selectionBias: bias);
        Adapter(c, targets).Save(ad);
        LoraAdapter adapter = LoraAdapter.Load(ad);

        double[] expected = Reference(dir, hf, ad, multiplier);
        double[] baseExpected = Reference(dir, hf, null, 1f);
        float[] fromHf, fromGguf;
        using (IDecoder m = ModelLoader.OpenDecoder(hf, adapter, multiplier)) fromHf = Logits(m);
        using (IDecoder m = ModelLoader.OpenDecoder(gguf, adapter, multiplier)) fromGguf = Logits(m);

        // the adapter really moves the logits, by far more than the tolerance
        Assert.True(Relative(fromHf, baseExpected) > 1e-2, $"the adapter barely changes the logits ({Relative(fromHf, baseExpected):E2})");
        Assert.True(Relative(fromHf, expected) <= 1e-4, $"HF: relative max |logit diff| {Relative(fromHf, expected):E3}");
        Assert.True(Relative(fromGguf, expected) <= 1e-4, $"GGUF: relative max |logit diff| {Relative(fromGguf, expected):E3}");
    }

    [Fact]
    public void OpenDecoder_Q8_0GgufWithAdapter_SameArgmaxAsF32Merge()
    {
        using var dir = new TempDir();
        DeepSeekConfig c = DeepSeekConfig.Preset("test-v3");
        string f32 = dir.File("f32.gguf"), q8 = dir.File("q8.gguf");
        RandomDeepSeek.WriteGguf(f32, c, DType.F32, seed: 9, selectionBias: true);
        RandomDeepSeek.WriteGguf(q8, c, DType.Q8_0, seed: 9, selectionBias: true);
        LoraAdapter adapter = Adapter(c, "all-linear");
        float[] a, b;
        using (IDecoder m = ModelLoader.OpenDecoder(f32, adapter)) a = Logits(m);
        using (IDecoder m = ModelLoader.OpenDecoder(q8, adapter)) b = Logits(m);
        int v = c.VocabSize;
        for (int t = 0; t < Tokens.Length; t++)
        {
            var ra = a.AsSpan(t * v, v);
            var rb = b.AsSpan(t * v, v);
            double dot = 0, na = 0, nb = 0;
            for (int k = 0; k < v; k++) { dot += ra[k] * rb[k]; na += ra[k] * ra[k]; nb += rb[k] * rb[k]; }
            Assert.True(dot / Math.Sqrt(na * nb) >= 0.999, $"position {t}: cosine {dot / Math.Sqrt(na * nb):F5}");
        }
    }

    [Fact]
    public void Compose_DeepSeekVlmWithLlavaPrefixedAdapter_SameLogitsAsTheDecoderWithTheAdapter()
    {
        // an adapter trained on a LLaVA-style model names its decoder modules "language_model.model.layers..."
        using var dir = new TempDir();
        DeepSeekConfig c = DeepSeekConfig.Preset("test-v3");
        var clip = Furnace.Models.Clip.ClipConfig.Preset("test-tiny");
        string gguf = dir.File("m.gguf"), clipDir = dir.File("clip"), projector = dir.File("p.safetensors");
        RandomDeepSeek.WriteGguf(gguf, c, DType.F32, seed: 9, selectionBias: true);
        Furnace.Models.Clip.RandomClip.WriteHuggingFace(clipDir, clip, seed: 1);
        Furnace.Models.Vlm.RandomLlava.WriteProjector(projector, clip.Vision.HiddenSize, c.Dim, seed: 2);
        LoraAdapter plain = Adapter(c, "all-linear");
        var prefixed = new LoraAdapter(plain.Config, plain.Modules.Select(kv => KeyValuePair.Create(LoraModules.LlavaPrefix + kv.Key, kv.Value)));
        float[] expected, got;
        using (IDecoder m = ModelLoader.OpenDecoder(gguf, plain)) expected = Logits(m);
        using (var vlm = Furnace.Models.Vlm.LlavaModel.Compose(Furnace.Models.Vlm.ClipVisionEncoder.Load(clipDir), projector, null, gguf, prefixed))
            got = Logits(vlm.Decoder);
        Assert.Equal(expected, got);
    }

    [Fact]
    public void OpenDecoder_AdapterOnTheRouter_OneLineErrorNamingTheModule()
    {
        using var dir = new TempDir();
        DeepSeekConfig c = DeepSeekConfig.Preset("test-v3");
        string gguf = dir.File("m.gguf");
        RandomDeepSeek.WriteGguf(gguf, c, DType.F32, seed: 1, selectionBias: true);
        var cfg = new LoraConfig { Rank = 2, Alpha = 4, Targets = LoraTargets.Parse("gate") }.Validated("test");
        var router = new LoraAdapter(cfg, [KeyValuePair.Create("model.layers.1.mlp.gate", new LoraModuleWeights(2, c.Dim, c.Experts, new float[2 * c.Dim], new float[c.Experts * 2]))]);
        var e = Assert.Throws<FurnaceException>(() => ModelLoader.OpenDecoder(gguf, router));
        Assert.Contains("'model.layers.1.mlp.gate'", e.Message);
        Assert.Contains("router", e.Message);
        Assert.DoesNotContain("\n", e.Message);

        var wrong = new LoraAdapter(cfg, [KeyValuePair.Create("model.layers.0.self_attn.kv_b_proj", new LoraModuleWeights(2, c.Dim, 16, new float[2 * c.Dim], new float[16 * 2]))]);
        var shape = Assert.Throws<FurnaceException>(() => ModelLoader.OpenDecoder(gguf, wrong));
        Assert.Contains("kv_b_proj.weight' [256, 32]", shape.Message);
    }
}
