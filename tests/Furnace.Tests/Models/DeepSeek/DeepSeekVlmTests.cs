// A DeepSeek-V2/V3 decoder (MLA + DeepSeekMoE) in the decoder slot of a composed vision-language model: random CLIP
// tower + projector + random deepseek2 GGUF (or DeepseekV3 HF directory). The VLM must splice exactly the rows the
// vision tower and projector give and the decoder's own token embeddings, and its logits and greedy captions must be
// the decoder's own ForwardEmbeddings on those rows, computed here on a separately opened DeepSeekModel.
using Furnace.Formats.Gguf;
using Furnace.Generation;
using Furnace.Models;
using Furnace.Models.Clip;
using Furnace.Models.DeepSeek;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Serving;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeek;

public sealed class DeepSeekVlmTests : IDisposable
{
    private readonly TempDir _dir = new();
    private readonly string _clip, _projector, _gguf;
    private readonly DeepSeekConfig _config = DeepSeekConfig.Preset("test-v3");

    public DeepSeekVlmTests()
    {
        ClipConfig clip = ClipConfig.Preset("test-tiny");
        _clip = _dir.File("clip");
        RandomClip.WriteHuggingFace(_clip, clip, seed: 1);
        RandomLlava.WritePreprocessorConfig(_clip, clip.Vision.ImageSize);
        _projector = _dir.File("projector.safetensors");
        RandomLlava.WriteProjector(_projector, clip.Vision.HiddenSize, _config.Dim, seed: 2);
        _gguf = _dir.File("deepseek.gguf");
        RandomDeepSeek.WriteGguf(_gguf, _config, DType.F32, seed: 3, selectionBias: true);
    }

    public void Dispose() => _dir.Dispose();

    private LlavaModel Compose(string decoder) => LlavaModel.Compose(ClipVisionEncoder.Load(_clip), _projector, null, decoder);

    [Fact]
    public void Compose_DeepSeekDecoder_LogitsEqualTheDecodersOwnForwardEmbeddingsOnTheSplicedRows()
    {
        using var ctx = new KernelContext(2);
        using LlavaModel vlm = Compose(_gguf);
        Assert.IsType<DeepSeekModel>(vlm.Decoder);
        var image = BatchedChatEngineTests.Noise(36, 30, 7);
        LlavaPrompt prompt = vlm.BuildPrompt(vlm.RenderChat("<image>\nwhat is here?"), [image], ctx);

        // the rows the VLM splices: the decoder's token embeddings around the projected image features
        using var own = DeepSeekModel.FromGguf(GgufFile.Open(_gguf));
        int dim = own.Dim, per = vlm.TokensPerImage;
        List<int[]> segments = vlm.TokenizeSegments(vlm.RenderChat("<image>\nwhat is here?"));
        Assert.Equal(2, segments.Count);
        float[] projected = vlm.ProjectImages([image], ctx);
        var expected = new float[prompt.Positions * dim];
        own.Embed(segments[0], expected.AsSpan(0, segments[0].Length * dim));
        projected.CopyTo(expected.AsSpan(segments[0].Length * dim, per * dim));
        own.Embed(segments[1], expected.AsSpan((segments[0].Length + per) * dim));
        Assert.Equal(expected, prompt.Embeddings);

        // the VLM's decoder through the IDecoder seam against the separately opened model's own ForwardEmbeddings
        IDecoderState vs = vlm.Decoder.NewDecoderState(64, maxBatch: prompt.Positions);
        vlm.Decoder.ForwardEmbeddings(prompt.Embeddings, vs, ctx, allLogits: true);
        DeepSeekState os = own.NewState(64, maxBatch: prompt.Positions);
        own.ForwardEmbeddings(expected, os, ctx, allLogits: true);
        int v = own.VocabSize;
        Assert.Equal(os.Logits.AsSpan(0, prompt.Positions * v).ToArray(), vs.Logits.AsSpan(0, prompt.Positions * v).ToArray());
    }

    [Fact]
    public void Captioner_DeepSeekDecoder_GreedyCaptionEqualsDecodingTheSplicedPrompt()
    {
        using var ctx = new KernelContext(2);
        using LlavaModel vlm = Compose(_gguf);
        var options = new GenerationOptions { Sampling = SamplingOptions.Greedy, MaxTokens = 12, IgnoreEos = true };
        var image = BatchedChatEngineTests.Noise(30, 40, 11);
        var (_, result) = new Captioner(vlm, "Describe the image.", options).Caption(image, ctx);
        Assert.Equal(12, result.TokenIds.Count);

        // the same prompt decoded greedily, one token at a time, on a separately opened decoder
        LlavaPrompt prompt = vlm.BuildPrompt(vlm.RenderChat(CaptionInstruction.UserTurn("Describe the image.")), [image], ctx);
        using var own = DeepSeekModel.FromGguf(GgufFile.Open(_gguf));
        DeepSeekState s = own.NewState(prompt.Positions + 16);
        own.ForwardEmbeddings(prompt.Embeddings, s, ctx);
        var tokens = new List<int>();
        for (int i = 0; i < 12; i++)
        {
            int next = ArgMax(s.Logits.AsSpan(0, own.VocabSize));
            tokens.Add(next);
            own.Forward([next], s, ctx);
        }
        Assert.Equal(tokens, result.TokenIds);
    }

    [Fact]
    public void Compose_DeepSeekHfDirectory_SameLogitsAsItsGgufOnTheSplicedRows()
    {
        string hf = _dir.File("deepseek-hf");
        RandomDeepSeek.WriteHuggingFace(hf, _config, seed: 3, selectionBias: true);
        HfTokenizerJson.WriteSynthetic(hf, _config.VocabSize);
        using var ctx = new KernelContext(2);
        var options = new GenerationOptions { Sampling = SamplingOptions.Greedy, MaxTokens = 6, IgnoreEos = true };
        var image = BatchedChatEngineTests.Noise(32, 32, 5);
        using LlavaModel fromHf = Compose(hf);
        Assert.IsType<DeepSeekModel>(fromHf.Decoder);
        // the HF directory's synthetic tokenizer differs from the GGUF's: compare the decoders on the same spliced rows
        LlavaPrompt prompt = fromHf.BuildPrompt(fromHf.RenderChat("<image>\nhi"), [image], ctx);
        using var gguf = DeepSeekModel.FromGguf(GgufFile.Open(_gguf));
        IDecoderState a = fromHf.Decoder.NewDecoderState(64, prompt.Positions), b = gguf.NewState(64, prompt.Positions);
        fromHf.Decoder.ForwardEmbeddings(prompt.Embeddings, a, ctx);
        ((IDecoder)gguf).ForwardEmbeddings(prompt.Embeddings, b, ctx);
        for (int k = 0; k < gguf.VocabSize; k++)
            Assert.True(Math.Abs(a.Logits[k] - b.Logits[k]) <= 1e-4f, $"token {k}: {a.Logits[k]} vs {b.Logits[k]}");
        Assert.Equal(6, fromHf.Generate("<image>\nhi", [image], options, ctx).GeneratedTokens);
    }

    [Fact]
    public void Captioner_ThinkHideWithR1Decoder_CaptionEmptyAndReasoningIsTheShownCaption()
    {
        // an R1-template decoder: the caption prompt opens "<think>", which a random model never closes
        string r1 = _dir.File("r1.gguf");
        RandomDeepSeekR1.WriteGguf(r1, _config, seed: 3);
        using var ctx = new KernelContext(2);
        using LlavaModel vlm = Compose(r1);
        Assert.EndsWith("<think>\n", vlm.RenderChat("x"));
        var options = new GenerationOptions { Sampling = SamplingOptions.Greedy, MaxTokens = 8, IgnoreEos = true };
        var image = BatchedChatEngineTests.Noise(30, 30, 3);
        var (shown, shownResult) = new Captioner(vlm, "Describe.", options).Caption(image, ctx);
        var (hidden, hiddenResult) = new Captioner(vlm, "Describe.", options, ThinkMode.Hide).Caption(image, ctx);
        Assert.NotEqual("", shown);
        Assert.Null(shownResult.Reasoning);
        Assert.Equal("", hidden);
        Assert.Equal(shownResult.Text, hiddenResult.Reasoning);
    }

    [Fact]
    public void LlamaDecoder_DeepSeekVlm_OneLineErrorNamingTheArchitecture()
    {
        using LlavaModel vlm = Compose(_gguf);
        var e = Assert.Throws<FurnaceException>(() => vlm.LlamaDecoder);
        Assert.Contains("'deepseek2'", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    private static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
        {
            if (v[i] > v[best]) best = i;
        }
        return best;
    }
}
