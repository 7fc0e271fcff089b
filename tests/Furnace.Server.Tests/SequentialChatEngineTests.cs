// SequentialChatEngine on the tiny models: the bounded queue (full → ChatQueueFullException; a cancelled waiting
// request leaves at once and frees its place), and ChatEngines.Open on a text-only decoder. The worker is held inside
// the metrics hook (called on the worker thread after a generation), so the queue states are reached without timing.
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Serving;
using Furnace.Tensors;

namespace Furnace.Server.Tests;

[Collection(TinyLlavaCollection.Name)]
public sealed class SequentialChatEngineTests(TinyLlavaFixture f)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static ChatRequest Hi(int maxTokens) => new([new ChatTurn("user", [ChatPart.FromText("Hi")])],
        new GenerationOptions { MaxTokens = maxTokens, IgnoreEos = true, Sampling = SamplingOptions.Greedy });

    private static async Task<string> Drain(IAsyncEnumerator<ChatUpdate> e, bool first)
    {
        var text = new System.Text.StringBuilder();
        if (first) text.Append(e.Current.Text);
        while (await e.MoveNextAsync()) text.Append(e.Current.Text);
        return text.ToString();
    }

    [Fact]
    public async Task StreamAsync_QueueFullThenWaitingCancelled_SlotFreed()
    {
        using var engine = (SequentialChatEngine)ChatEngines.Open(f.ModelDir, new ChatEngineOptions { Threads = 1, MaxQueue = 1 });
        using var entered = new ManualResetEventSlim();
        using var hold = new ManualResetEventSlim();
        engine.DecodeStepObserved = _ =>
        {
            entered.Set();
            hold.Wait();
        };
        await using var a = engine.StreamAsync(Hi(3)).GetAsyncEnumerator();
        Task<bool> aFirst = a.MoveNextAsync().AsTask();
        Assert.True(entered.Wait(Wait)); // the worker is busy with a

        using var leave = new CancellationTokenSource();
        await using var b = engine.StreamAsync(Hi(3), leave.Token).GetAsyncEnumerator();
        Task<bool> bFirst = b.MoveNextAsync().AsTask();
        Assert.Equal(1, engine.QueueDepth);

        await using var c = engine.StreamAsync(Hi(3)).GetAsyncEnumerator();
        await Assert.ThrowsAsync<ChatQueueFullException>(() => c.MoveNextAsync().AsTask());

        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => bFirst.WaitAsync(Wait));
        Assert.Equal(0, engine.QueueDepth);

        await using var d = engine.StreamAsync(Hi(3)).GetAsyncEnumerator();
        Task<bool> dFirst = d.MoveNextAsync().AsTask();
        Assert.Equal(1, engine.QueueDepth); // admitted in b's place

        hold.Set();
        Assert.True(await aFirst.WaitAsync(Wait));
        Assert.True(await dFirst.WaitAsync(Wait));
        string textA = await Drain(a, first: true), textD = await Drain(d, first: true);
        Assert.Equal(textA, textD);
        Assert.Equal(0, engine.QueueDepth);
    }

    [Fact]
    public async Task ChatEngines_OpenDecoder_TextOnlyEngineMatchesGenerator()
    {
        string dir = f.Dir.File("tiny-llm");
        if (!Directory.Exists(dir))
        {
            RandomLlama.WriteHuggingFace(dir, LlamaConfig.Preset("test-tiny"), DType.F32, seed: 3);
            HfTokenizerJson.WriteSynthetic(dir, 320);
        }
        using IChatEngine engine = ChatEngines.Open(dir, new ChatEngineOptions { Threads = 1 });
        Assert.False(engine.AcceptsImages);
        Assert.Equal("tiny-llm", engine.ModelId);
        var request = Hi(6);
        var text = new System.Text.StringBuilder();
        GenerationResult? final = null;
        await foreach (ChatUpdate u in engine.StreamAsync(request))
        {
            text.Append(u.Text);
            final ??= u.Final;
        }
        using LanguageModel lm = LanguageModel.Open(dir);
        using var ctx = new KernelContext(1);
        int[] ids = ChatPromptBuilder.Build(lm, request);
        GenerationResult expected = new Generator(lm.Model, lm.Tokenizer, ctx, 256).Generate(ids, request.Options);
        Assert.Equal(expected.Text, text.ToString());
        Assert.Equal(expected.TokenIds, final!.TokenIds);
        Assert.Equal(6, final.GeneratedTokens);

        var withImage = new ChatRequest([new ChatTurn("user", [ChatPart.FromImage(f.Image)])], request.Options);
        await Assert.ThrowsAsync<FurnaceException>(async () =>
        {
            await foreach (ChatUpdate _ in engine.StreamAsync(withImage)) { }
        });
    }
}
