// A Q4_K / Q5_K / Q6_K llama GGUF loads with its matmul weights repacked to Interleaved16 (where the AVX-512 kernels run) and
// decodes exactly as the row-major model does: the packed GEMV is bit-identical to the row-major AVX2 GEMV, so the
// step-by-step logits are equal bit for bit; the packed prefill (GEMM tiles) gives the same bits as its own decode
// in every matmul, so cached decoding equals the uncached forward within 1e-4 (attention's order differs).
using System.Runtime.Intrinsics.X86;
using Furnace.Formats.Gguf;
using Furnace.Formats.Weights;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models;

public sealed class LlamaKPackedTests
{
    private static LlamaConfig Config() => new LlamaConfig
    {
        Architecture = "llama",
        Dim = 256,
        Layers = 2,
        Heads = 4,
        KvHeads = 2,
        HeadDim = 64,
        FfnDim = 512,
        VocabSize = 320,
        MaxPositions = 256,
        RmsEps = 1e-5f,
    }.Validated("test");

    [Theory]
    [InlineData(DType.Q4_K)]
    [InlineData(DType.Q5_K)]
    [InlineData(DType.Q6_K)]
    public void OpenLlama_KQuantGguf_PackedDecodeBitIdenticalToRowMajor(DType type)
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        RandomLlama.WriteGguf(path, Config(), type, seed: 11);
        using var m = ModelLoader.OpenLlama(path);
        LlamaLayerWeights l0 = m.Weights.Layers[0];
        WeightLayout want = RepackK.Applies(type) ? WeightLayout.Interleaved16 : WeightLayout.RowMajor;
        foreach (WeightMatrix w in new[] { l0.Wq, l0.Wk, l0.Wv, l0.Wo, l0.WGate, l0.WUp, l0.WDown, m.Weights.Output })
        {
            Assert.Equal(type, w.Type);
            Assert.Equal(want, w.Layout);
        }
        Assert.Equal(WeightLayout.RowMajor, m.Weights.TokenEmbedding.Layout);

        using var f = GgufFile.Open(path);
        using var plain = new LlamaModel(m.Config, LlamaWeights.Load(new WeightLoader(f), m.Config, CheckpointNaming.Gguf), m.RopeStyle);
        Assert.Equal(WeightLayout.RowMajor, plain.Weights.Layers[0].Wq.Layout);
        using var ctx = new KernelContext(2);
        int v = m.Config.VocabSize;
        int[] tokens = [5, 77, 140, 3, 201, 9, 318, 64];
        var sp = m.NewState(32, maxBatch: 1);
        var sr = plain.NewState(32, maxBatch: 1);
        var whole = m.NewState(32, maxBatch: 16);
        m.Forward(tokens, whole, ctx, allLogits: true);
        for (int i = 0; i < tokens.Length; i++)
        {
            m.Forward(tokens.AsSpan(i, 1), sp, ctx);
            plain.Forward(tokens.AsSpan(i, 1), sr, ctx);
            for (int k = 0; k < v; k++)
            {
                if (Avx2.IsSupported) Assert.True(sp.Logits[k] == sr.Logits[k], $"position {i}, token {k}: packed {sp.Logits[k]} vs row-major {sr.Logits[k]}");
                else Assert.True(Math.Abs(sp.Logits[k] - sr.Logits[k]) <= 1e-4f, $"position {i}, token {k}: packed {sp.Logits[k]} vs row-major {sr.Logits[k]}");
                Assert.True(Math.Abs(sp.Logits[k] - whole.Logits[i * v + k]) <= 1e-4f, $"position {i}, token {k}: decode {sp.Logits[k]} vs prefill {whole.Logits[i * v + k]}");
            }
        }
    }
}
