// The continuously batched engine over a DeepSeek decoder (MLA latent caches + DeepSeekMoE), text-only and as the
// decoder slot of a composed VLM (random CLIP + projector): requests admitted together and joining while others
// decode must give, token for token, the greedy answers the sequential engine gives each alone.
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.Clip;
using Furnace.Models.DeepSeek;
using Furnace.Models.Vlm;
using Furnace.Serving;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Serving;

public sealed class BatchedChatEngineDeepSeekTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _clip, _projector, _gguf;

    public BatchedChatEngineDeepSeekTests()
    {
        DeepSeekConfig c = DeepSeekConfig.Preset("test-v3");
        ClipConfig clip = ClipConfig.Preset("test-tiny");
        _clip = _dir.File("clip");
        RandomClip.WriteHuggingFace(_clip, clip, seed: 1);
        RandomLlava.WritePreprocessorConfig(_clip, clip.Vision.ImageSize);
        _projector = _dir.File("projector.safetensors");
        RandomLlava.WriteProjector(_projector, clip.Vision.HiddenSize, c.Dim, seed: 2);
        _gguf = _dir.File("deepseek.gguf");
        RandomDeepSeek.WriteGguf(_gguf, c, DType.Q8_0, seed: 4, selectionBias: true);
    }

    public void Dispose() => _dir.Dispose();

    private static GenerationOptions Greedy(int i) => new() { Sampling = SamplingOptions.Greedy, MaxTokens = 10 + 3 * i, IgnoreEos = true };

    private static ChatRequest TextRequest(int i) =>
        new([new ChatTurn("user", [ChatPart.FromText($"tell me {i}: " + string.Concat(Enumerable.Range(0, 3 + 2 * i).Select(k => $"w{(k * 7 + i) % 10} ")))])], Greedy(i));

    private static ChatRequest ImageRequest(int i) =>
        new([new ChatTurn("user", [ChatPart.FromImage(BatchedChatEngineTests.Noise(28 + 3 * i, 30, 60 + i)), ChatPart.FromText($"what is {i}?")])], Greedy(i));

    private static async Task<GenerationResult> Final(IChatEngine engine, ChatRequest request)
    {
        GenerationResult? final = null;
        await foreach (ChatUpdate u in engine.StreamAsync(request))
        {
            if (u.Final != null) final = u.Final;
        }
        return final!;
    }

    private static async Task AssertBatchedEqualsSequential(Func<ChatEngineOptions, IChatEngine> open, Func<int, ChatRequest> request)
    {
        var requests = Enumerable.Range(0, 5).Select(request).ToList();
        var expected = new List<GenerationResult>();
        using (IChatEngine seq = open(new ChatEngineOptions { Threads = 2 }))
        {
            foreach (ChatRequest r in requests) expected.Add(await Final(seq, r));
        }
        using var engine = (BatchedChatEngine)open(new ChatEngineOptions { MaxBatch = 3, MaxQueue = 8, Threads = 2 });
        using var gate = new ManualResetEventSlim(false);
        var widths = new List<int>();
        // the first decode step waits until all requests are queued: they are admitted together, and the last two
        // join as earlier ones finish
        engine.DecodeStepObserved = n => { gate.Wait(); lock (widths) widths.Add(n); };
        var first = Final(engine, requests[0]);
        while (engine.ActiveCount == 0 || engine.QueueDepth > 0) await Task.Delay(1);
        var rest = requests.Skip(1).Select(r => Final(engine, r)).ToList();
        while (engine.QueueDepth < rest.Count) await Task.Delay(1);
        gate.Set();
        GenerationResult[] got = await Task.WhenAll([first, .. rest]);
        for (int i = 0; i < requests.Count; i++)
        {
            Assert.Equal(expected[i].PromptTokens, got[i].PromptTokens);
            Assert.Equal(expected[i].TokenIds, got[i].TokenIds);
        }
        Assert.Contains(widths, w => w > 1);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public async Task StreamAsync_ThinkHideWithR1Template_ContentEmptyAndReasoningIsTheShownText(int maxBatch)
    {
        // the R1 template opens "<think>" in the prompt; a random model never closes it, so everything is reasoning
        string gguf = _dir.File("r1.gguf");
        RandomDeepSeekR1.WriteGguf(gguf, DeepSeekConfig.Preset("test-v3"), seed: 5);
        var request = TextRequest(1);
        GenerationResult shown;
        GenerationResult? hidden = null;
        var pieces = new List<string>();
        using (IChatEngine e = ChatEngines.Create(LanguageModel.Open(gguf), new ChatEngineOptions { MaxBatch = maxBatch, Threads = 2 }))
            shown = await Final(e, request);
        using (IChatEngine e = ChatEngines.Create(LanguageModel.Open(gguf), new ChatEngineOptions { MaxBatch = maxBatch, Threads = 2, Think = ThinkMode.Hide }))
        {
            await foreach (ChatUpdate u in e.StreamAsync(request))
            {
                pieces.Add(u.Text);
                if (u.Final != null) hidden = u.Final;
            }
        }
        Assert.NotNull(hidden);
        Assert.NotEqual("", shown.Text);
        Assert.DoesNotContain("</think>", shown.Text);
        Assert.Null(shown.Reasoning);
        Assert.All(pieces, p => Assert.Equal("", p));
        Assert.Equal("", hidden.Text);
        Assert.Equal(shown.Text, hidden.Reasoning);
        Assert.Equal(shown.TokenIds, hidden.TokenIds);
    }

    [Fact]
    public Task StreamAsync_DeepSeekTextModel_BatchedEqualsSequentialGreedy() =>
        AssertBatchedEqualsSequential(o => ChatEngines.Create(LanguageModel.Open(_gguf), o), TextRequest);

    [Fact]
    public Task StreamAsync_DeepSeekDecoderVlm_BatchedEqualsSequentialGreedy() =>
        AssertBatchedEqualsSequential(o => ChatEngines.Create(LlavaModel.Compose(ClipVisionEncoder.Load(_clip), _projector, null, _gguf), o), ImageRequest);
}
