// Caption perplexity of a vision-language model: the training objective's teacher-forced next-token NLL
// (VlmTraining.Loss: CE over the answer tokens of TrainingSampleBuilder.Caption, end-of-turn marker included),
// computed with the inference forward (LlavaModel.BuildPrompt + IDecoder.ForwardEmbeddings), so it also runs on
// quantized decoders. The prompt is exactly what `furnace caption` sends (CaptionInstruction.UserTurn through
// LlavaModel.RenderChat); it is evaluated once per image and its KV cache reused for each reference caption:
//   prompt (P positions: text + image rows) → logits at P − 1 predict answer[0]
//   answer[0 .. A − 2] at positions P … P + A − 2 → logits predict answer[1 .. A − 1]
using Furnace.Formats.Images;
using Furnace.Models;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Training;

namespace Furnace.Evaluation.Perplexity;

public sealed class CaptionPerplexity
{
    private readonly TrainingSampleBuilder _builder;
    private IDecoderState? _state;

    /// <param name="instruction">The captioning instruction (CaptionInstruction.For); "&lt;image&gt;\n" goes in front unless it places one.</param>
    public CaptionPerplexity(LlavaModel model, string instruction)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        Instruction = CaptionInstruction.UserTurn(instruction);
        _builder = new TrainingSampleBuilder(model);
    }

    public LlavaModel Model { get; }

    /// <summary>The user turn, placeholder included (CaptionInstruction.UserTurn, as Captioner sends it).</summary>
    public string Instruction { get; }

    /// <summary>The training sample of a caption: prompt ids (unlabelled) then the answer ids (labelled).</summary>
    public TrainingSample Sample(string caption) => _builder.Caption(caption, Instruction);

    /// <summary>The NLL of each caption of one image, in order.</summary>
    public CaptionNll[] Score(string imageId, RgbImage image, IReadOnlyList<string> captions, KernelContext ctx)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentNullException.ThrowIfNull(captions);
        if (captions.Count == 0) return [];
        IDecoder decoder = Model.Decoder;
        int vocab = decoder.VocabSize;
        LlavaPrompt prompt = Model.BuildPrompt(Model.RenderChat(Instruction), [image], ctx);
        int p = prompt.Positions;
        var answers = new int[captions.Count][];
        for (int c = 0; c < captions.Count; c++)
        {
            TrainingSample s = Sample(captions[c]);
            int firstLabel = Array.FindIndex(s.Labels, l => l != TrainingSample.IgnoreIndex);
            if (firstLabel < 0) throw new FurnaceException($"image {imageId}: caption {c + 1} has no tokens to score");
            // the training sample's prompt must be the inference prompt, or this is not the training objective
            if (!s.InputIds.AsSpan(0, firstLabel).SequenceEqual(prompt.InputIds))
                throw new FurnaceException($"image {imageId}: the training prompt ({firstLabel} ids) differs from the caption prompt ({p} ids)");
            answers[c] = s.InputIds[firstLabel..];
        }
        int longest = answers.Max(a => a.Length);
        if (p + longest > decoder.MaxPositions)
            throw new FurnaceException($"image {imageId}: the prompt ({p} positions) and a caption ({longest} tokens) exceed the model's context length {decoder.MaxPositions}");
        IDecoderState state = StateFor(p + longest, longest);

        state.Reset();
        decoder.ForwardEmbeddings(prompt.Embeddings, state, ctx);
        float[] promptLast = state.Logits.AsSpan(0, vocab).ToArray(); // (vocab,) at position P − 1
        var result = new CaptionNll[captions.Count];
        for (int c = 0; c < captions.Count; c++)
        {
            int[] a = answers[c];
            double nll = LogSoftmax.Nll(promptLast, a[0]);
            if (a.Length > 1)
            {
                state.Position = p;
                decoder.Forward(a.AsSpan(0, a.Length - 1), state, ctx, allLogits: true);
                for (int j = 1; j < a.Length; j++) nll += LogSoftmax.Nll(state.Logits.AsSpan((j - 1) * vocab, vocab), a[j]);
            }
            result[c] = new CaptionNll(imageId, c, nll, a.Length);
        }
        return result;
    }

    // one state for the whole run, grown when a longer prompt + caption comes
    private IDecoderState StateFor(int positions, int answer)
    {
        if (_state is { } s && s.ContextLength >= positions && s.MaxBatch >= answer) return s;
        int ctxLen = Math.Max(positions, _state?.ContextLength ?? 0), batch = Math.Max(Math.Max(answer, 64), _state?.MaxBatch ?? 0);
        _state = Model.Decoder.NewDecoderState(ctxLen, batch);
        return _state;
    }
}
