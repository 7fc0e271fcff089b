// LoRA against llama.cpp: our adapter exported as a GGUF LoRA file and applied by llama.cpp at run time
// (llama_adapter_lora_init + llama_set_adapters_lora: y = W·x + alpha/r·B·(A·x), unmerged) gives the same logits as
// Furnace's model with the adapter merged into the weights at load, on tiny random f32 models.
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Oracle.Tests.Support;
using Furnace.Tensors;

namespace Furnace.Oracle.Tests;

public sealed class LoraOracleTests
{
    public static TheoryData<string, int, int, bool, string, bool> Cases => new()
    {
        { "llama", 4, 4, false, "q_proj,v_proj", false },   // MHA, the classic targets
        { "llama", 8, 2, false, "all-linear", true },       // GQA: permuted Q and K rows, MLP too, rsLoRA scale
        { "qwen2", 4, 2, true, "all-linear", false },       // NEOX rope (no permutation), q/k/v biases
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void MergedModel_MatchesLlamaCppWithAdapterWithin1e4(string arch, int heads, int kv, bool bias, string targets, bool rs)
    {
        using var dir = new TempDir();
        var c = LlamaLogitsOracleTests.Tiny(arch, heads, kv, 10000f, 1e-5f, bias);
        string model = dir.File("m.gguf"), loraGguf = dir.File("lora.gguf");
        RandomLlama.WriteGguf(model, c, DType.F32, seed: 7);
        var adapter = LoraAdapter.Create(new LoraConfig { Rank = 4, Alpha = 16, Targets = LoraTargets.Parse(targets), UseRsLora = rs }.Validated("t"), c, seed: 3, randomB: true);
        LoraGgufExport.Write(loraGguf, adapter, c);
        var rng = new Random(1);
        int[] tokens = Enumerable.Range(0, 48).Select(_ => rng.Next(3, c.VocabSize)).ToArray();

        float[][] expected, plain;
        using (var cpp = new LlamaCpp(model, lora: loraGguf)) expected = cpp.AllLogits(tokens);
        using (var cpp = new LlamaCpp(model)) plain = cpp.AllLogits(tokens);

        using var merged = ModelLoader.OpenLlama(model, adapter);
        var state = merged.NewState(256, maxBatch: 64);
        using var ctx = new KernelContext(2);
        merged.Forward(tokens, state, ctx, allLogits: true);
        double effect = LlamaCpp.MaxAbsDiff(state.Logits, plain);
        Assert.True(effect > 1e-2, $"the adapter barely changes llama.cpp's logits ({effect:E3}): the test adapter is degenerate");
        double maxDiff = LlamaCpp.MaxAbsDiff(state.Logits, expected);
        Assert.True(maxDiff < 1e-4, $"max |logit diff| = {maxDiff:E3}");
    }
}
