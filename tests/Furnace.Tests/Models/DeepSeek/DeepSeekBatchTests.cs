// Batched decode of DeepSeek (DeepSeekModel.ForwardBatch, what `serve --max-batch N` runs): B sequences at different
// positions, each with its own latent cache, advanced in one pass must give the logits each gets decoding alone
// (MLA per sequence, projections, router and experts over the stacked rows) while sequences join and leave; a step
// allocates nothing.
using Furnace.Formats.Gguf;
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.DeepSeek;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeek;

public sealed class DeepSeekBatchTests
{
    private static DeepSeekModel Tiny(TempDir dir, string preset, DType type)
    {
        string path = dir.File("m.gguf");
        RandomDeepSeek.WriteGguf(path, DeepSeekConfig.Preset(preset), type, seed: 6, selectionBias: preset == "test-v3");
        return DeepSeekModel.FromGguf(GgufFile.Open(path));
    }

    private static int[] Prompt(int length, int salt, int vocab) =>
        Enumerable.Range(0, length).Select(i => 3 + (i * 17 + salt * 29) % (vocab - 3)).ToArray();

    [Theory]
    [InlineData("test-v2-lite", DType.F32)]
    [InlineData("test-v3", DType.F32)]
    [InlineData("test-v3", DType.Q8_0)]
    [InlineData("test-v2-lite", DType.Q4_0)]
    public void ForwardBatch_SequencesJoiningAndLeaving_EqualSingleSequenceDecoding(string preset, DType type)
    {
        using var dir = new TempDir();
        using var m = Tiny(dir, preset, type);
        using var ctx = new KernelContext(2);
        int v = m.VocabSize;
        float tolerance = type == DType.F32 ? 1e-5f : 1e-4f;
        const int sequences = 5;
        int[] lengths = [3, 11, 1, 7, 20];
        var batched = new DeepSeekState[sequences];
        var alone = new DeepSeekState[sequences];
        var next = new int[sequences];
        for (int s = 0; s < sequences; s++)
        {
            int[] prompt = Prompt(lengths[s], s, v);
            batched[s] = m.NewState(64, maxBatch: 8);
            alone[s] = m.NewState(64, maxBatch: 8);
            m.Forward(prompt, batched[s], ctx);
            m.Forward(prompt, alone[s], ctx);
            next[s] = Sampler.ArgMax(alone[s].Logits.AsSpan(0, v));
        }

        // through the IDecoder seam, as the batched chat engine drives it
        IDecoder d = m;
        IDecoderBatch batch = d.NewDecoderBatch(4);
        var active = new List<int> { 0, 1, 2 };
        var tokens = new int[4];
        var states = new IDecoderState[4];
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
            d.ForwardBatch(tokens.AsSpan(0, active.Count), states.AsSpan(0, active.Count), batch, ctx);
            for (int i = 0; i < active.Count; i++)
            {
                int s = active[i];
                m.Forward([next[s]], alone[s], ctx);
                Assert.Equal(alone[s].Position, batched[s].Position);
                Span<float> got = batch.LogitsOf(i), want = alone[s].Logits.AsSpan(0, v);
                for (int k = 0; k < v; k++)
                    Assert.True(Math.Abs(got[k] - want[k]) <= tolerance, $"step {step}, sequence {s}, token {k}: {got[k]} vs {want[k]}");
                int argmax = Sampler.ArgMax(want);
                Assert.Equal(argmax, Sampler.ArgMax(got));
                next[s] = argmax;
            }
        }
    }

    [Theory]
    [InlineData("test-v2-lite", DType.F32)]
    [InlineData("test-v3", DType.Q8_0)]
    public void ForwardBatch_DecodeStep_AllocatesNothing(string preset, DType type)
    {
        using var dir = new TempDir();
        using var m = Tiny(dir, preset, type);
        using var ctx = new KernelContext(2);
        var states = Enumerable.Range(0, 3).Select(_ => m.NewState(64, maxBatch: 4)).ToArray();
        for (int s = 0; s < states.Length; s++) m.Forward(Prompt(2 + s, s, m.VocabSize), states[s], ctx);
        var batch = m.NewBatch(3);
        int[] tokens = [5, 6, 7];
        for (int i = 0; i < 4; i++) m.ForwardBatch(tokens, states, batch, ctx); // warm-up: JIT
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 8; i++) m.ForwardBatch(tokens, states, batch, ctx);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void ForwardBatch_SameSequenceTwice_Throws()
    {
        using var dir = new TempDir();
        using var m = Tiny(dir, "test-v2-lite", DType.F32);
        using var ctx = new KernelContext(1);
        var s = m.NewState(16);
        m.Forward([1, 2], s, ctx);
        Assert.Throws<ArgumentException>(() => m.ForwardBatch([3, 4], [s, s], m.NewBatch(2), ctx));
    }
}
