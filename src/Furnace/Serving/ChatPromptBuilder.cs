// Turns a ChatRequest into what the generator takes: every turn rendered through the model's chat template (image
// parts become "<image>" placeholders in order, several per message allowed), then, for a LlavaModel, spliced into
// (embeddings, text ids) by LlavaModel.BuildPrompt, or, for a text-only LanguageModel, tokenized into ids.
// Generalises LlavaModel.RenderChat (one user turn) to whole conversations.
using System.Text;
using Furnace.Formats.ChatTemplates;
using Furnace.Formats.Images;
using Furnace.Formats.Tokenizers;
using Furnace.Models;
using Furnace.Models.Vlm;
using Furnace.Tensors;

namespace Furnace.Serving;

public static class ChatPromptBuilder
{
    /// <summary>The messages flattened to template messages (images as placeholders) and the images in prompt order.</summary>
    public static (List<ChatMessage> Messages, List<RgbImage> Images) Flatten(IReadOnlyList<ChatTurn> turns, bool acceptsImages)
    {
        ArgumentNullException.ThrowIfNull(turns);
        if (turns.Count == 0) throw new FurnaceException("messages: at least one message is required");
        var messages = new List<ChatMessage>(turns.Count);
        var images = new List<RgbImage>();
        for (int t = 0; t < turns.Count; t++)
        {
            ChatTurn turn = turns[t];
            if (turn.Role is not ("system" or "user" or "assistant"))
                throw new FurnaceException($"messages[{t}].role: '{turn.Role}' is not one of system, user, assistant");
            var sb = new StringBuilder();
            for (int p = 0; p < turn.Parts.Count; p++)
            {
                ChatPart part = turn.Parts[p];
                if (part.Image is { } image)
                {
                    if (!acceptsImages) throw new FurnaceException($"messages[{t}]: this model is text-only and takes no images");
                    if (turn.Role != "user") throw new FurnaceException($"messages[{t}]: images are only allowed in user messages");
                    if (part.Text != null) throw new FurnaceException($"messages[{t}].content[{p}]: a part is text or an image, not both");
                    sb.Append(LlavaModel.ImagePlaceholder);
                    // "<image>\n" + text, as LLaVA's prompts (and Captioner) put it, when text follows directly
                    if (p + 1 < turn.Parts.Count && turn.Parts[p + 1].Text is { Length: > 0 } next && !char.IsWhiteSpace(next[0])) sb.Append('\n');
                    images.Add(image);
                }
                else sb.Append(part.Text ?? "");
            }
            string content = sb.ToString();
            // literal placeholders typed by a client would steal image slots: the counts would no longer match
            if (acceptsImages && CountPlaceholders(content) != turn.Parts.Count(x => x.Image != null))
                throw new FurnaceException($"messages[{t}]: the text must not contain '{LlavaModel.ImagePlaceholder}'; send images as image parts");
            messages.Add(new ChatMessage(turn.Role, content));
        }
        if (messages[^1].Role == "assistant")
            throw new FurnaceException("messages: the last message must be a user (or system) message, not an assistant one");
        return (messages, images);
    }

    /// <summary>
    /// The conversation rendered with generation prompt: through the template, or, with none, LLaVA-1.5's
    /// "{system} USER: {u} ASSISTANT: {a}{eos}USER: {u} ASSISTANT:" conversation format.
    /// </summary>
    public static string Render(ChatTemplate? template, IReadOnlyList<ChatMessage> messages, string? eosText)
    {
        if (template != null) return template.Render(messages, addGenerationPrompt: true);
        var sb = new StringBuilder();
        foreach (var m in messages)
        {
            switch (m.Role)
            {
                case "system":
                    if (m.Content.Length > 0) sb.Append(m.Content).Append(' ');
                    break;
                case "user":
                    sb.Append("USER: ").Append(m.Content).Append(' ');
                    break;
                default:
                    sb.Append("ASSISTANT: ").Append(m.Content).Append(eosText ?? "");
                    break;
            }
        }
        return sb.Append("ASSISTANT:").ToString();
    }

    /// <summary>A LLaVA prompt: positions × dim embeddings with the projected images spliced in, and the text ids.</summary>
    public static LlavaPrompt Build(LlavaModel model, ChatRequest request, KernelContext ctx)
    {
        var (messages, images) = Flatten(request.Messages, acceptsImages: true);
        // the model's own placeholder typed as text (DeepSeek-VL's <image_placeholder>) would steal image slots too
        if (model.ImageTag != LlavaModel.ImagePlaceholder && messages.FindIndex(m => m.Content.Contains(model.ImageTag, StringComparison.Ordinal)) is int t and >= 0)
            throw new FurnaceException($"messages[{t}]: the text must not contain '{model.ImageTag}'; send images as image parts");
        string rendered = model.PromptFormat?.Render(messages) ?? Render(model.Template, messages, EosText(model.Tokenizer));
        return model.BuildPrompt(rendered, images, ctx);
    }

    /// <summary>
    /// Prompt token ids for a text-only decoder: its chat template, or the plain "role: content" format when it has
    /// none Furnace recognises (base models).
    /// </summary>
    public static int[] Build(LanguageModel model, ChatRequest request)
    {
        var (messages, _) = Flatten(request.Messages, acceptsImages: false);
        ChatTemplate t = model.Template ?? new PlainTemplate();
        string rendered = t.Render(messages, addGenerationPrompt: true);
        int[] ids = model.Tokenizer.Encode(rendered, addSpecial: !t.RendersBos, parseSpecial: true);
        if (ids.Length == 0) throw new FurnaceException("the prompt is empty");
        return ids;
    }

    private static string? EosText(Tokenizer tokenizer) => tokenizer.EosId is int eos ? tokenizer.TokenText(eos) : null;

    private static int CountPlaceholders(string s)
    {
        int n = 0;
        for (int i = s.IndexOf(LlavaModel.ImagePlaceholder, StringComparison.Ordinal); i >= 0;
             i = s.IndexOf(LlavaModel.ImagePlaceholder, i + LlavaModel.ImagePlaceholder.Length, StringComparison.Ordinal)) n++;
        return n;
    }
}
