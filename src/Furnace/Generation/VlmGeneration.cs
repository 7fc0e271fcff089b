// Generation loops over a LLaVA-style model: the model builds the prompt (chat rendering, image features spliced at
// the <image> placeholders) and runs the embedding forward; these loops decode from it. Generate answers one user
// turn through the KV-cached Generator.
using Furnace.Formats.Images;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Generation;

public static class VlmGeneration
{
    /// <summary>A generator over the model's decoder; contextLength 0 takes the model's (at most 4096).</summary>
    public static Generator NewGenerator(this LlavaModel model, KernelContext ctx, int contextLength = 0)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new(model.Decoder, model.Tokenizer, ctx, contextLength > 0 ? contextLength : Math.Min(model.Decoder.Config.MaxPositions, 4096));
    }

    /// <summary>Answers a user turn (with one placeholder per image) through the chat format; greedy unless options say otherwise.</summary>
    public static GenerationResult Generate(this LlavaModel model, string userText, IReadOnlyList<RgbImage> images, GenerationOptions options,
        KernelContext ctx, string? system = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        LlavaPrompt prompt = model.BuildPrompt(model.RenderChat(userText, system), images, ctx);
        var gen = model.NewGenerator(ctx, Math.Min(model.Decoder.Config.MaxPositions, Math.Max(4096, prompt.Positions + options.MaxTokens)));
        return gen.GenerateEmbeddings(prompt.Embeddings, prompt.TextIds, options, cancellation);
    }
}
