// GGUF files written by Furnace in the K-quant / IQ4 / Q4_1 / Q5_x types load in llama.cpp and mean the same model:
// llama.cpp's logits on the quantized file stay close to its logits on the f32 file of the same random weights.
// (Furnace itself does not load these types yet: GgufFile admits them once the kernels exist.)
using Furnace.Models.Llama;
using Furnace.Oracle.Tests.Support;
using Furnace.Tensors;

namespace Furnace.Oracle.Tests;

public sealed class BlockFormatGgufOracleTests
{
    // thresholds sit just under the cosines measured on 2026-12-07 (q4_1 0.9952, q5_0 0.9985, q5_1 0.9987, q2_K 0.918,
    // q3_K 0.979, q4_K 0.9959, q5_K 0.9988, q6_K 0.9997, iq4_nl 0.9939, iq4_xs 0.9942)
    [Theory]
    [InlineData(DType.Q4_1, 0.993)]
    [InlineData(DType.Q5_0, 0.997)]
    [InlineData(DType.Q5_1, 0.997)]
    [InlineData(DType.Q2_K, 0.9)]
    [InlineData(DType.Q3_K, 0.97)]
    [InlineData(DType.Q4_K, 0.993)]
    [InlineData(DType.Q5_K, 0.997)]
    [InlineData(DType.Q6_K, 0.999)]
    [InlineData(DType.IQ4_NL, 0.99)]
    [InlineData(DType.IQ4_XS, 0.99)]
    public void LlamaGgufExport_BlockType_LlamaCppLogitsCloseToF32File(DType type, double minCosine)
    {
        using var dir = new TempDir();
        // rows of 256 and 512 so the 256-blocks fit every weight
        LlamaConfig c = LlamaLogitsOracleTests.Tiny("llama", 8, 2, 10000f, 1e-5f) with { Dim = 256, HeadDim = 32, FfnDim = 512 };
        string f32 = dir.File("f32.gguf"), q = dir.File("q.gguf");
        RandomLlama.WriteGguf(f32, c, DType.F32, seed: 4);
        RandomLlama.WriteGguf(q, c, type, seed: 4);
        var rng = new Random(6);
        int[] tokens = Enumerable.Range(0, 16).Select(_ => rng.Next(3, c.VocabSize)).ToArray();
        float[][] want, got;
        using (var cpp = new LlamaCpp(f32)) want = cpp.AllLogits(tokens);
        using (var cpp = new LlamaCpp(q)) got = cpp.AllLogits(tokens);
        double worst = 1;
        for (int i = 0; i < tokens.Length; i++) worst = Math.Min(worst, LlamaCpp.Cosine(got[i], want[i]));
        Assert.True(worst >= minCosine, $"{DTypes.Name(type)}: worst logits cosine {worst:F5} < {minCosine}");
    }
}
