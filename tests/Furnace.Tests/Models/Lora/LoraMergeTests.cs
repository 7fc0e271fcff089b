// Merging LoRA adapters into base weights at load: the merged model's logits against an unmerged PyTorch forward
// (y = W·x + scale·B·(A·x)), the merge kernel against its scalar twin for every stored dtype, GGUF row order,
// packed weights, and load-time errors.
using System.Text.Json;
using Furnace.Formats.Gguf;
using Furnace.Formats.Weights;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.Lora;

public sealed class LoraMergeTests
{
    private static readonly LlamaConfig Tiny = LlamaConfig.Preset("test-tiny");

    private static readonly int[] Tokens = Enumerable.Range(0, 12).Select(i => 3 + i * 29 % 300).ToArray();

    private static LoraAdapter Adapter(string targets, bool rs = false, int seed = 5) =>
        LoraAdapter.Create(new LoraConfig { Rank = 4, Alpha = 8, Targets = LoraTargets.Parse(targets), UseRsLora = rs }.Validated("test"), Tiny, seed, randomB: true);

    private static float[] Logits(LlamaModel m)
    {
        using var ctx = new KernelContext(2);
        var s = m.NewState(32, maxBatch: 16);
        m.Forward(Tokens, s, ctx, allLogits: true);
        return s.Logits.AsSpan(0, Tokens.Length * m.Config.VocabSize).ToArray();
    }

    private static float[] Reference(TempDir dir, string model, string? adapter, float multiplier = 1f)
    {
        string req = dir.File("req.json"), res = dir.File("res.json");
        File.WriteAllText(req, JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = model, ["adapter"] = adapter, ["multiplier"] = multiplier, ["input_ids"] = Tokens,
        }));
        PyTorchOracle.Run("lora_reference.py", req, res);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(res));
        return doc.RootElement.GetProperty("logits").EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();
    }

    private static float MaxDiff(float[] a, float[] b)
    {
        Assert.Equal(a.Length, b.Length);
        float m = 0;
        for (int i = 0; i < a.Length; i++) m = Math.Max(m, Math.Abs(a[i] - b[i]));
        return m;
    }

    [Theory]
    [InlineData("q_proj,v_proj", false, 1f)]
    [InlineData("all-linear", true, 1f)]
    [InlineData("all-linear", false, 0.5f)]
    public void MergedModel_MatchesUnmergedPyTorch(string targets, bool rs, float multiplier)
    {
        using var dir = new TempDir();
        string hf = dir.File("hf"), gguf = dir.File("m.gguf"), ad = dir.File("adapter");
        RandomLlama.WriteHuggingFace(hf, Tiny, DType.F32, seed: 7);
        RandomLlama.WriteGguf(gguf, Tiny, DType.F32, seed: 7);
        var adapter = Adapter(targets, rs);
        adapter.Save(ad);
        float[] expected = Reference(dir, hf, ad, multiplier);
        float[] baseRef = Reference(dir, hf, null);
        Assert.True(MaxDiff(expected, baseRef) > 1e-2f, "the adapter should change the logits noticeably");

        using (var m = ModelLoader.OpenLlama(hf, LoraAdapter.Load(ad), multiplier))
            Assert.True(MaxDiff(Logits(m), expected) < 1e-4f, $"HF base: max |diff| {MaxDiff(Logits(m), expected)}");
        // the GGUF file holds the same model with llama.cpp's permuted Q/K rows: B must be permuted the same way
        using (var m = ModelLoader.OpenLlama(gguf, LoraAdapter.Load(ad), multiplier))
            Assert.True(MaxDiff(Logits(m), expected) < 1e-4f, $"GGUF base: max |diff| {MaxDiff(Logits(m), expected)}");
    }

    [Fact]
    public void PeftInitialAdapter_LeavesLogitsUnchanged()
    {
        using var dir = new TempDir();
        string hf = dir.File("hf");
        RandomLlama.WriteHuggingFace(hf, Tiny, DType.F32, seed: 7);
        var adapter = LoraAdapter.Create(new LoraConfig { Rank = 8, Targets = LoraTargets.AllLinear }.Validated("t"), Tiny, seed: 1);
        using var a = ModelLoader.OpenLlama(hf);
        using var b = ModelLoader.OpenLlama(hf, adapter);
        Assert.Equal(Logits(a), Logits(b));
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.F16)]
    [InlineData(DType.BF16)]
    [InlineData(DType.Q8_0)]
    [InlineData(DType.Q4_0)]
    public void AddLowRank_MatchesScalarReference(DType type)
    {
        const int rows = 40, cols = 96, rank = 3;
        float[] w = SeededUniform.Values(rows * cols, 1, "w", 0, 0.5f);
        float[] a = SeededUniform.Values(rank * cols, 1, "a", 0, 0.3f);
        float[] b = SeededUniform.Values(rows * rank, 1, "b", 0, 0.3f);
        using var src = NativeBuffer.FromFloats(w, rows, cols, type);
        var wm = src.AsMatrix(rows, cols, type);
        using var ctx = new KernelContext(2);
        using var merged = LowRank.AddLowRank(wm, a, b, rank, 1.5f, type, ctx, out var mm);
        Assert.Equal(type, mm.Type);
        float[] reference = LowRank.AddLowRankReference(wm, a, b, rank, 1.5f);
        // one rounding to the stored type: relative 2^-24 (F32), 2^-11 (F16), 2^-8 (BF16); for Q8_0 half a step
        // d = amax/127 of the 32-element block, for Q4_0 a whole step d = amax/8 (+amax clips to 7d), plus d's f16 rounding
        var row = new float[cols];
        for (int r = 0; r < rows; r++)
        {
            Dequantize.Row(row, mm, r);
            for (int i = 0; i < cols; i++)
            {
                float x = reference[r * cols + i];
                float amax = reference.AsSpan(r * cols + i / 32 * 32, 32).ToArray().Max(Math.Abs);
                float tol = type switch
                {
                    DType.F32 => 1e-6f,
                    DType.F16 => Math.Abs(x) / 2048f + 1e-7f,
                    DType.BF16 => Math.Abs(x) / 256f,
                    DType.Q8_0 => amax / 127f * 0.5f + Math.Abs(x) / 1024f,
                    _ => amax / 8f + Math.Abs(x) / 1024f,
                };
                Assert.True(Math.Abs(row[i] - x) <= tol * 1.01f, $"{type} ({r}, {i}): {row[i]} vs {x}");
            }
        }
    }

    [Theory]
    [InlineData(DType.Q8_0)]
    [InlineData(DType.Q4_0)]
    public void Merge_PackedWeights_EqualUnpackedMerge(DType type)
    {
        using var dir = new TempDir();
        string gguf = dir.File("m.gguf");
        RandomLlama.WriteGguf(gguf, Tiny, type, seed: 7);
        var adapter = Adapter("all-linear");
        using var f = GgufFile.Open(gguf);
        using var owner1 = new PackedWeights();
        using var owner2 = new PackedWeights();
        var plain = LoraMerge.Apply(LlamaWeights.Load(new WeightLoader(f), Tiny, CheckpointNaming.Gguf), Tiny, adapter, owner1, ggufRowOrder: true);
        var packed = LoraMerge.Apply(LlamaWeights.Load(new WeightLoader(f), Tiny, CheckpointNaming.Gguf), Tiny, adapter, owner2, ggufRowOrder: true, pack: true);
        Assert.Equal(type, plain.Layers[1].WDown.Type);
        Assert.False(plain.Layers[1].WDown.IsInterleaved8);
        Assert.True(packed.Layers[1].WDown.IsInterleaved8);
        Assert.True(packed.Output.IsInterleaved8);
        var x = new float[Tiny.FfnDim];
        var y = new float[Tiny.FfnDim];
        for (int r = 0; r < Tiny.Dim; r++)
        {
            Dequantize.Row(x, plain.Layers[1].WDown, r);
            Dequantize.Row(y, packed.Layers[1].WDown, r);
            Assert.Equal(x, y);
        }
    }

    [Fact]
    public void Merge_QuantizedBase_StaysCloseToF32Merge()
    {
        using var dir = new TempDir();
        string f32 = dir.File("f32.gguf"), q8 = dir.File("q8.gguf");
        RandomLlama.WriteGguf(f32, Tiny, DType.F32, seed: 7);
        RandomLlama.WriteGguf(q8, Tiny, DType.Q8_0, seed: 7);
        var adapter = Adapter("all-linear");
        using var a = ModelLoader.OpenLlama(f32, adapter);
        using var b = ModelLoader.OpenLlama(q8, adapter);
        Assert.True(b.PackedBytes > 0);
        float[] la = Logits(a), lb = Logits(b);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < la.Length; i++)
        {
            dot += la[i] * lb[i];
            na += la[i] * la[i];
            nb += lb[i] * lb[i];
        }
        Assert.True(dot / Math.Sqrt(na * nb) > 0.999, $"cosine {dot / Math.Sqrt(na * nb)}");
    }

    [Fact]
    public void Open_AdapterForOtherShape_NamesKeyAndShapes()
    {
        using var dir = new TempDir();
        string hf = dir.File("hf");
        RandomLlama.WriteHuggingFace(hf, Tiny, DType.F32, seed: 7);
        var other = Tiny with { FfnDim = 128 };
        var adapter = LoraAdapter.Create(new LoraConfig { Rank = 2, Targets = LoraTargets.Parse("down_proj") }.Validated("t"), other, seed: 1);
        var e = Assert.Throws<FurnaceException>(() => ModelLoader.OpenLlama(hf, adapter));
        Assert.Contains("base_model.model.model.layers.0.mlp.down_proj.lora_A.weight", e.Message);
        Assert.Contains("[2, 128]", e.Message);
        Assert.Contains("[64, 96]", e.Message);
    }
}
