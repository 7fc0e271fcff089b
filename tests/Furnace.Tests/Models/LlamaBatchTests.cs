// Batched decode (LlamaModel.ForwardBatch): B sequences at different positions advanced in one pass must give the
// logits each would get decoding alone, while sequences join and leave between steps; a step allocates nothing.
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models;

public sealed class LlamaBatchTests
{
    private static LlamaModel Tiny(TempDir dir, DType type, bool qwen2)
    {
        string path = dir.File("m.gguf");
        LlamaConfig c = LlamaConfig.Preset("test-tiny");
        if (qwen2) c = c with { Architecture = "qwen2", AttentionBias = true };
        RandomLlama.WriteGguf(path, c, type, seed: 5);
        return ModelLoader.OpenLlama(path);
    }

    private static int[] Prompt(int length, int salt, int vocab) =>
        Enumerable.Range(0, length).Select(i => 3 + (i * 17 + salt * 29) % (vocab - 3)).ToArray();

    [Theory]
    [InlineData(DType.F32, false)]
    [InlineData(DType.F32, true)]
    [InlineData(DType.Q8_0, false)]
    [InlineData(DType.Q4_0, false)]
    [InlineData(DType.Q8_0, true)]
    public void ForwardBatch_SequencesJoiningAndLeaving_EqualSingleSequenceDecoding(DType type, bool qwen2)
    {
        using var dir = new TempDir();
        using var m = Tiny(dir, type, qwen2);
        using var ctx = new KernelContext(2);
        Assert.Equal(qwen2, m.Weights.Layers[0].Bq != null);
        int v = m.Config.VocabSize;
        float tolerance = type == DType.F32 ? 1e-5f : 1e-4f;
        const int sequences = 5;
        int[] lengths = [3, 11, 1, 7, 20];
        var batched = new LlamaState[sequences];
        var alone = new LlamaState[sequences];
        var next = new int[sequences];
        for (int s = 0; s < sequences; s++)
        {
            int[] prompt = Prompt(lengths[s], s, v);
            batched[s] = m.NewState(64, maxBatch: 8);
            alone[s] = m.NewState(64, maxBatch: 8);
            m.Forward(prompt, batched[s], ctx);
            m.Forward(prompt, alone[s], ctx);
            next[s] = Furnace.Generation.Sampler.ArgMax(alone[s].Logits.AsSpan(0, v));
        }

        var batch = m.NewBatch(4);
        var active = new List<int> { 0, 1, 2 };
        var tokens = new int[4];
        var states = new LlamaState[4];
        for (int step = 0; step < 8; step++)
        {
            // continuous batching: sequence 1 leaves after step 2, 3 joins at step 3, 4 at step 5, 0 leaves after step 5
            if (step == 3) { active.Remove(1); active.Add(3); }
            if (step == 5) active.Add(4);
            if (step == 6) active.Remove(0);
            for (int i = 0; i < active.Count; i++)
            {
                tokens[i] = next[active[i]];
                states[i] = batched[active[i]];
            }
            m.ForwardBatch(tokens.AsSpan(0, active.Count), states.AsSpan(0, active.Count), batch, ctx);
            for (int i = 0; i < active.Count; i++)
            {
                int s = active[i];
                m.Forward([next[s]], alone[s], ctx);
                Assert.Equal(alone[s].Position, batched[s].Position);
                Span<float> got = batch.LogitsOf(i), want = alone[s].Logits.AsSpan(0, v);
                for (int k = 0; k < v; k++)
                    Assert.True(Math.Abs(got[k] - want[k]) <= tolerance, $"step {step}, sequence {s}, token {k}: {got[k]} vs {want[k]}");
                int argmax = Furnace.Generation.Sampler.ArgMax(want);
                Assert.Equal(argmax, Furnace.Generation.Sampler.ArgMax(got));
                next[s] = argmax;
            }
        }
    }

    [Theory]
    [InlineData(DType.F32)]
    [InlineData(DType.Q8_0)]
    [InlineData(DType.Q4_0)]
    public void ForwardBatch_DecodeStep_AllocatesNothing(DType type)
    {
        using var dir = new TempDir();
        using var m = Tiny(dir, type, qwen2: false);
        using var ctx = new KernelContext(2);
        var states = Enumerable.Range(0, 3).Select(_ => m.NewState(64, maxBatch: 4)).ToArray();
        for (int s = 0; s < states.Length; s++) m.Forward(Prompt(2 + s, s, m.Config.VocabSize), states[s], ctx);
        var batch = m.NewBatch(3);
        int[] tokens = [5, 6, 7];
        for (int i = 0; i < 4; i++) m.ForwardBatch(tokens, states, batch, ctx); // warm-up: JIT, scratch growth
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 8; i++) m.ForwardBatch(tokens, states, batch, ctx);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ForwardBatch_SameSequenceTwice_Throws()
    {
        using var dir = new TempDir();
        using var m = Tiny(dir, DType.F32, qwen2: false);
        using var ctx = new KernelContext(1);
        var s = m.NewState(16);
        m.Forward([1, 2], s, ctx);
        Assert.Throws<ArgumentException>(() => m.ForwardBatch([3, 4], [s, s], m.NewBatch(2), ctx));
    }
}
