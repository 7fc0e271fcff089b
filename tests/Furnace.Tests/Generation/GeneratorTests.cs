using Furnace.Formats.Gguf;
using Furnace.Formats.Tokenizers;
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Generation;

public sealed class GeneratorTests
{
    private static LanguageModel Tiny(TempDir dir)
    {
        RandomLlama.WriteGguf(dir.File("m.gguf"), LlamaConfig.Preset("test-tiny"), DType.F32, seed: 9);
        return LanguageModel.Open(dir.File("m.gguf"));
    }

    [Fact]
    public void Generate_Greedy_EqualsArgMaxLoopOverForward()
    {
        using var dir = new TempDir();
        using var lm = Tiny(dir);
        using var ctx = new KernelContext(2);
        int[] prompt = lm.Tokenizer.Encode("hello world");
        var gen = new Generator(lm.Model, lm.Tokenizer, ctx, 128);
        var res = gen.Generate(prompt, new GenerationOptions { Sampling = SamplingOptions.Greedy, MaxTokens = 16, IgnoreEos = true });

        var state = lm.Model.NewState(128);
        lm.Model.Forward(prompt, state, ctx);
        var ids = new List<int>();
        for (int i = 0; i < 16; i++)
        {
            int next = Sampler.ArgMax(state.Logits.AsSpan(0, lm.Model.Config.VocabSize));
            ids.Add(next);
            lm.Model.Forward([next], state, ctx);
        }
        var dec = new Utf8StreamDecoder(lm.Tokenizer);
        string expected = string.Concat(ids.Select(dec.Push)) + dec.Flush();
        Assert.Equal(expected, res.Text);
        Assert.Equal(16, res.GeneratedTokens);
        Assert.Equal("length", res.FinishReason);
    }

    [Fact]
    public async Task StreamAsync_Cancelled_StopsWithOperationCanceled()
    {
        using var dir = new TempDir();
        using var lm = Tiny(dir);
        using var ctx = new KernelContext(1);
        var gen = new Generator(lm.Model, lm.Tokenizer, ctx, 128);
        using var cts = new CancellationTokenSource();
        int pieces = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (string _ in gen.StreamAsync(lm.Tokenizer.Encode("abc"), new GenerationOptions { MaxTokens = 100, IgnoreEos = true }, cts.Token))
            {
                if (++pieces == 2) cts.Cancel();
            }
        });
        Assert.Equal(2, pieces);
    }

    [Fact]
    public void Generate_PromptFillsContext_ClearError()
    {
        using var dir = new TempDir();
        using var lm = Tiny(dir);
        using var ctx = new KernelContext(1);
        var gen = new Generator(lm.Model, lm.Tokenizer, ctx, 8);
        var ex = Assert.Throws<FurnaceException>(() => gen.Generate(Enumerable.Repeat(5, 8).ToArray(), new GenerationOptions()));
        Assert.Contains("the prompt has 8 tokens", ex.Message);
    }

    [Fact]
    public void Generate_MaxTokensBeyondContext_StopsAtContextWithLength()
    {
        using var dir = new TempDir();
        using var lm = Tiny(dir);
        using var ctx = new KernelContext(1);
        var gen = new Generator(lm.Model, lm.Tokenizer, ctx, 12);
        var res = gen.Generate([1, 5, 6, 7], new GenerationOptions { Sampling = SamplingOptions.Greedy, MaxTokens = 100, IgnoreEos = true });
        Assert.Equal("length", res.FinishReason);
        Assert.Equal(8, res.GeneratedTokens);
    }
}
