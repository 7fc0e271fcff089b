// Generation loops over a LLaVA-style model: the model builds the prompt (chat rendering, image features spliced at
// the <image> placeholders) and runs the embedding forward; these loops decode from it. Generate answers one user
// turn through the KV-cached Generator; GenerateGreedy continues a prompt through the training graph instead
// (recomputing the whole sequence per token, for sample captions of small models while they train).
using Furnace.Formats.Images;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;

namespace Furnace.Generation;

public static class VlmGeneration
{
    /// <summary>A generator over the model's decoder; contextLength 0 takes the model's (at most 4096).</summary>
    public static Generator NewGenerator(this LlavaModel model, KernelContext ctx, int contextLength = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new(model.Decoder, model.Tokenizer, ctx, contextLength > 0 ? contextLength : Math.Min(model.Decoder.MaxPositions, 4096));
    }

    /// <summary>Answers a user turn (with one placeholder per image) through the chat format; greedy unless options say otherwise.</summary>
    public static GenerationResult Generate(this LlavaModel model, string userText, IReadOnlyList<RgbImage> images, GenerationOptions options,
        KernelContext ctx, string? system = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        LlavaPrompt prompt = model.BuildPrompt(model.RenderChat(userText, system), images, ctx);
        var gen = model.NewGenerator(ctx, Math.Min(model.Decoder.MaxPositions, Math.Max(4096, prompt.Positions + options.MaxTokens)));
        return gen.GenerateEmbeddings(prompt.Embeddings, prompt.TextIds, options, cancellation);
    }

    /// <summary>
    /// Greedy continuation of a prompt (input ids with image slots, e.g. TrainingSampleBuilder.Prompt) through the
    /// training graph with recording off: recomputes the whole sequence per token (for evaluating small models).
    /// </summary>
    public static int[] GenerateGreedy(this LlavaTrainable model, Tape tape, int[] promptIds, float[] imageFeatures, int images, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        bool was = tape.Enabled;
        tape.Enabled = false;
        try
        {
            var ids = new List<int>(promptIds);
            var output = new List<int>();
            for (int step = 0; step < maxTokens; step++)
            {
                int[] input = ids.ToArray();
                Tensor hidden = model.Hidden(tape, input, 1, input.Length, imageFeatures, images);
                Tensor logits = model.Language.Logits(tape, tape.SliceRows(hidden, input.Length - 1, 1));
                int next = 0;
                for (int v = 1; v < logits.Length; v++)
                {
                    if (logits.Data[v] > logits.Data[next]) next = v;
                }
                if (model.Model.Tokenizer.IsEndOfGeneration(next)) break;
                output.Add(next);
                ids.Add(next);
            }
            return output.ToArray();
        }
        finally
        {
            tape.Enabled = was;
        }
    }
}
