// The continuously batched engine against the sequential one on a tiny random LLaVA and a tiny text decoder:
// concurrent greedy requests (different prompts and images, joining and leaving the batch) must give exactly the text
// each gives alone; cancelling one leaves the others untouched; a full queue refuses at once.
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Serving;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Serving;

public sealed class BatchedChatEngineFixture : IDisposable
{
    public BatchedChatEngineFixture()
    {
        Llava = Dir.File("llava");
        TinyLlava.Write(Llava, seed: 5);
        TextModel = Dir.File("text.gguf");
        RandomLlama.WriteGguf(TextModel, LlamaConfig.Preset("test-tiny"), Furnace.Tensors.DType.Q8_0, seed: 7);
    }

    public TempDir Dir { get; } = new();

    public string Llava { get; }

    public string TextModel { get; }

    public void Dispose() => Dir.Dispose();
}

public sealed class BatchedChatEngineTests : IClassFixture<BatchedChatEngineFixture>
{
    private readonly BatchedChatEngineFixture _f;

    public BatchedChatEngineTests(BatchedChatEngineFixture f) => _f = f;

    internal static RgbImage Noise(int w, int h, int seed)
    {
        var px = new byte[w * h * 3];
        new Random(seed).NextBytes(px);
        return new RgbImage(w, h, px);
    }

    private static GenerationOptions Greedy(int maxTokens, bool ignoreEos = true) =>
        new() { Sampling = SamplingOptions.Greedy, MaxTokens = maxTokens, IgnoreEos = ignoreEos };

    private static ChatRequest ImageRequest(int i, int maxTokens) => new(
        [new ChatTurn("user", [ChatPart.FromImage(Noise(24 + 4 * i, 32, 100 + i)), ChatPart.FromText($"describe picture {i}" + new string('!', i))])],
        Greedy(maxTokens, ignoreEos: i % 2 == 0));

    private static async Task<(string Text, GenerationResult Final, int Updates)> Collect(IChatEngine engine, ChatRequest request, CancellationToken cancellation = default)
    {
        var text = new System.Text.StringBuilder();
        GenerationResult? final = null;
        int updates = 0;
        await foreach (ChatUpdate u in engine.StreamAsync(request, cancellation))
        {
            text.Append(u.Text);
            updates++;
            if (u.Final != null) final = u.Final;
        }
        Assert.NotNull(final);
        return (text.ToString(), final, updates);
    }

    private async Task<List<GenerationResult>> Alone(IReadOnlyList<ChatRequest> requests, bool text = false)
    {
        IChatEngine seq = text
            ? new SequentialChatEngine(LanguageModel.Open(_f.TextModel), new ChatEngineOptions { Threads = 2 })
            : new SequentialChatEngine(LlavaModel.Load(_f.Llava), new ChatEngineOptions { Threads = 2 });
        using (seq)
        {
            var results = new List<GenerationResult>();
            foreach (ChatRequest r in requests) results.Add((await Collect(seq, r)).Final);
            return results;
        }
    }

    [Fact]
    public async Task StreamAsync_ConcurrentImageRequests_EqualEachRunAlone()
    {
        var requests = Enumerable.Range(0, 7).Select(i => ImageRequest(i, 10 + 3 * i)).ToList();
        List<GenerationResult> expected = await Alone(requests);

        using var engine = new BatchedChatEngine(LlavaModel.Load(_f.Llava), new ChatEngineOptions { MaxBatch = 3, MaxQueue = 8, Threads = 2 });
        var sizes = new List<int>();
        engine.DecodeStepObserved = n => { lock (sizes) sizes.Add(n); };
        var got = await Task.WhenAll(requests.Select(r => Collect(engine, r)));
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.Equal(expected[i].Text, got[i].Text);
            Assert.Equal(expected[i].Text, got[i].Final.Text);
            Assert.Equal(expected[i].TokenIds, got[i].Final.TokenIds);
            Assert.Equal(expected[i].FinishReason, got[i].Final.FinishReason);
            Assert.Equal(expected[i].PromptTokens, got[i].Final.PromptTokens);
            Assert.Equal(expected[i].GeneratedTokens, got[i].Final.GeneratedTokens);
        }
        Assert.All(sizes, n => Assert.InRange(n, 1, 3));
        Assert.Equal(0, engine.QueueDepth);
    }

    [Fact]
    public async Task StreamAsync_RequestsArrivingTogether_ShareDecodeSteps()
    {
        var requests = Enumerable.Range(0, 4).Select(i => ImageRequest(2 * i, 24)).ToList();
        List<GenerationResult> expected = await Alone(requests);

        using var engine = new BatchedChatEngine(LlavaModel.Load(_f.Llava), new ChatEngineOptions { MaxBatch = 4, Threads = 2 });
        using var gate = new ManualResetEventSlim(false);
        var sizes = new List<int>();
        // the first decode step waits until every request is queued: the other three are admitted together (each
        // request's images in its own vision pass), prefilled between steps, and then all four decode in the same steps
        engine.DecodeStepObserved = n =>
        {
            lock (sizes) sizes.Add(n);
            gate.Wait();
        };
        Task<(string Text, GenerationResult Final, int Updates)> first = Collect(engine, requests[0]);
        while (engine.ActiveCount == 0 || engine.QueueDepth > 0) await Task.Delay(1);
        var rest = requests.Skip(1).Select(r => Collect(engine, r)).ToList();
        while (engine.QueueDepth < 3) await Task.Delay(1);
        gate.Set();
        var got = await Task.WhenAll([first, .. rest]);
        for (int i = 0; i < requests.Count; i++) Assert.Equal(expected[i].Text, got[i].Text);
        Assert.Equal(1, sizes[0]);
        Assert.Equal(4, sizes.Max());
    }

    [Fact]
    public async Task StreamAsync_OneRequest_EqualsLlavaModelGenerate()
    {
        using var model = LlavaModel.Load(_f.Llava);
        using var ctx = new KernelContext(2);
        RgbImage image = Noise(40, 30, 9);
        GenerationResult want = model.Generate(LlavaModel.ImagePlaceholder + "\nwhat is this?", [image], Greedy(16), ctx);

        using var engine = new BatchedChatEngine(model, new ChatEngineOptions { MaxBatch = 4, Threads = 2 }, ownsModel: false);
        var request = new ChatRequest([new ChatTurn("user", [ChatPart.FromImage(image), ChatPart.FromText("what is this?")])], Greedy(16));
        var got = await Collect(engine, request);
        Assert.Equal(want.Text, got.Text);
        Assert.Equal(want.TokenIds, got.Final.TokenIds);
    }

    [Fact]
    public async Task StreamAsync_ConcurrentTextRequests_EqualEachRunAlone()
    {
        var requests = Enumerable.Range(0, 5).Select(i => new ChatRequest(
            [new ChatTurn("system", [ChatPart.FromText("be brief")]), new ChatTurn("user", [ChatPart.FromText($"question number {i * 7}: " + new string('x', 3 * i))])],
            Greedy(8 + 5 * i) with { Stop = i == 3 ? ["e"] : [] })).ToList();
        List<GenerationResult> expected = await Alone(requests, text: true);

        using var engine = new BatchedChatEngine(LanguageModel.Open(_f.TextModel), new ChatEngineOptions { MaxBatch = 4, Threads = 2 });
        var got = await Task.WhenAll(requests.Select(r => Collect(engine, r)));
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.Equal(expected[i].Text, got[i].Text);
            Assert.Equal(expected[i].FinishReason, got[i].Final.FinishReason);
        }
    }

    [Fact]
    public async Task StreamAsync_OneRequestCancelled_OthersComplete()
    {
        var requests = Enumerable.Range(0, 4).Select(i => ImageRequest(i, 40)).ToList();
        List<GenerationResult> expected = await Alone(requests);

        using var engine = new BatchedChatEngine(LlavaModel.Load(_f.Llava), new ChatEngineOptions { MaxBatch = 4, Threads = 2 });
        using var cancel = new CancellationTokenSource();
        // the cancelled request stops after its first streamed piece, while the others are in the batch with it
        async Task<int> Cancelled()
        {
            int n = 0;
            await foreach (ChatUpdate u in engine.StreamAsync(requests[1], cancel.Token))
            {
                n++;
                cancel.Cancel();
            }
            return n;
        }
        Task<int> cancelled = Cancelled();
        var others = new[] { 0, 2, 3 }.Select(i => Collect(engine, requests[i])).ToArray();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        var got = await Task.WhenAll(others);
        Assert.Equal(expected[0].Text, got[0].Text);
        Assert.Equal(expected[2].Text, got[1].Text);
        Assert.Equal(expected[3].Text, got[2].Text);
    }

    [Fact]
    public async Task StreamAsync_QueueFull_ThrowsAtOnce()
    {
        using var engine = new BatchedChatEngine(LlavaModel.Load(_f.Llava), new ChatEngineOptions { MaxBatch = 1, MaxQueue = 1, Threads = 1 });
        using var gate = new ManualResetEventSlim(false);
        // the scheduler waits in its first decode step until the test has filled the queue
        engine.DecodeStepObserved = _ => gate.Wait();
        var a = engine.StreamAsync(ImageRequest(0, 4)).GetAsyncEnumerator();
        Assert.True(await a.MoveNextAsync()); // A holds the only slot
        var b = engine.StreamAsync(ImageRequest(1, 4)).GetAsyncEnumerator();
        ValueTask<bool> bFirst = b.MoveNextAsync(); // B waits in the queue
        Assert.Equal(1, engine.QueueDepth);
        var c = engine.StreamAsync(ImageRequest(2, 4)).GetAsyncEnumerator();
        var ex = await Assert.ThrowsAsync<ChatQueueFullException>(async () => await c.MoveNextAsync());
        Assert.Equal(1, ex.Capacity);
        gate.Set();
        while (await a.MoveNextAsync()) { }
        Assert.True(await bFirst);
        while (await b.MoveNextAsync()) { }
        Assert.Equal(0, engine.QueueDepth);
        await a.DisposeAsync();
        await b.DisposeAsync();
        await c.DisposeAsync();
    }

    [Fact]
    public async Task StreamAsync_PromptBeyondContext_FailsOnlyThatRequest()
    {
        using var engine = new BatchedChatEngine(LanguageModel.Open(_f.TextModel), new ChatEngineOptions { MaxBatch = 2, ContextLength = 40, Threads = 1 });
        var tooLong = new ChatRequest([new ChatTurn("user", [ChatPart.FromText(new string('y', 80))])], Greedy(4));
        var fine = new ChatRequest([new ChatTurn("user", [ChatPart.FromText("hi")])], Greedy(4));
        Task<(string, GenerationResult, int)> ok = Collect(engine, fine);
        var ex = await Assert.ThrowsAsync<FurnaceException>(() => Collect(engine, tooLong));
        Assert.Contains("context", ex.Message);
        Assert.Equal(4, (await ok).Item2.GeneratedTokens);
    }
}
