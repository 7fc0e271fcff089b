// The continuously batched engine on a composed LLaVA (CLIP directory + mlp2x_gelu projector + q4_0 GGUF decoder), the
// shape the serving benchmark runs: prompts longer than one 64-position prefill chunk, several requests admitted at
// once and prefilled between other sequences' decode steps. Every greedy answer must equal the one the sequential
// engine gives alone, also with a vision encoder whose features depend on which images share its pass.
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Models.Clip;
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Serving;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Serving;

public sealed class BatchedChatEngineComposedTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _clip, _projector, _gguf;

    public BatchedChatEngineComposedTests()
    {
        ClipConfig clip = ClipConfig.Preset("test-tiny");
        // a 32000-token vocabulary as the benchmark's decoder has: flat random logits, near ties between greedy choices
        LlamaConfig text = LlamaConfig.Preset("test-tiny") with { VocabSize = 32000 };
        _clip = _dir.File("clip");
        RandomClip.WriteHuggingFace(_clip, clip, seed: 1);
        RandomLlava.WritePreprocessorConfig(_clip, clip.Vision.ImageSize);
        _projector = _dir.File("projector.safetensors");
        RandomLlava.WriteProjector(_projector, clip.Vision.HiddenSize, text.Dim, seed: 1);
        _gguf = _dir.File("decoder.gguf");
        RandomLlama.WriteGguf(_gguf, text, DType.Q4_0, seed: 1);
    }

    public void Dispose() => _dir.Dispose();

    private LlavaModel Open(bool batchSensitive = false)
    {
        IVisionEncoder clip = ClipVisionEncoder.Load(_clip);
        return LlavaModel.Compose(batchSensitive ? new BatchSensitiveEncoder(clip) : clip, _projector, null, _gguf);
    }

    // A vision encoder whose features depend on how many images share a pass, as the real one's do at rounding level
    // (the float GEMM replaces the dot-product kernel from 128 rows: three ViT-B/32 images), made large enough here to
    // change greedy answers: an engine gives each request the features a pass over its own images gives.
    private sealed class BatchSensitiveEncoder(IVisionEncoder inner) : IVisionEncoder
    {
        public int TokensPerImage => inner.TokensPerImage;

        public int FeatureDim => inner.FeatureDim;

        public float[] Encode(IReadOnlyList<RgbImage> images, KernelContext ctx)
        {
            float[] f = inner.Encode(images, ctx);
            for (int i = 0; i < f.Length; i++) f[i] += 0.05f * images.Count;
            return f;
        }

        public void Dispose() => inner.Dispose();
    }

    // three images (3 x 16 rows) + a text long enough that the prompt needs two prefill chunks
    private static ChatRequest Request(int i) => new(
        [new ChatTurn("user", [ChatPart.FromImage(BatchedChatEngineTests.Noise(30 + 3 * i, 28, 300 + i)),
            ChatPart.FromImage(BatchedChatEngineTests.Noise(20, 36 - i, 400 + i)), ChatPart.FromImage(BatchedChatEngineTests.Noise(33, 33, 500 + i)),
            ChatPart.FromText($"question {i}: " + string.Concat(Enumerable.Range(0, 6 + i).Select(k => $"w{(k * 7 + i) % 10} ")))])],
        new GenerationOptions { Sampling = SamplingOptions.Greedy, MaxTokens = 24 + 4 * i, IgnoreEos = true });

    private static async Task<GenerationResult> Final(IChatEngine engine, ChatRequest request)
    {
        GenerationResult? final = null;
        await foreach (ChatUpdate u in engine.StreamAsync(request))
        {
            if (u.Final != null) final = u.Final;
        }
        return final!;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task StreamAsync_LongPromptsAdmittedTogether_EqualEachRunAlone(bool batchSensitiveVision)
    {
        var requests = Enumerable.Range(0, 6).Select(Request).ToList();
        var expected = new List<GenerationResult>();
        using (var seq = new SequentialChatEngine(Open(batchSensitiveVision), new ChatEngineOptions { Threads = 2 }))
        {
            foreach (ChatRequest r in requests) expected.Add(await Final(seq, r));
        }
        Assert.All(expected, e => Assert.InRange(e.PromptTokens, 65, 127));

        using var engine = new BatchedChatEngine(Open(batchSensitiveVision), new ChatEngineOptions { MaxBatch = 4, MaxQueue = 8, Threads = 2 });
        using var gate = new ManualResetEventSlim(false);
        // the first decode step waits until all requests are queued: three are admitted together while the first
        // decodes, and the last two join as earlier ones finish, each prefilled in two chunks between decode steps
        engine.DecodeStepObserved = _ => gate.Wait();
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
    }
}
