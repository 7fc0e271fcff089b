// DeepSeek-VL's prompt (deepseek_vl/utils/conversation.py template "deepseek", SeparatorStyle.DeepSeek, as
// VLChatProcessor.apply_sft_template_for_multi_turn_prompts drives it): the system prompt (VLChatProcessor's
// default unless a system message is given) + "\n\n", then per message i: "{role}: {content.strip()}" + seps[i % 2]
// (sep "\n\n", sep2 "<｜end▁of▁sentence｜>"), the final empty Assistant turn as "Assistant:", the whole stripped.
// Roles are "User" and "Assistant". Furnace's generic "<image>" placeholder becomes the processor's image_tag.
using System.Text;
using Furnace.Formats.ChatTemplates;
using Furnace.Models.Vlm;

namespace Furnace.Models.DeepSeekVl;

public sealed class DeepSeekVlPromptFormat : IVlmPromptFormat
{
    public const string DefaultSystemPrompt =
        "You are a helpful language and vision assistant. You are able to understand the visual content that the user provides, " +
        "and assist the user with a variety of tasks using natural language.";

    public const string Sep = "\n\n";
    public const string Sep2 = "<｜end▁of▁sentence｜>";

    public DeepSeekVlPromptFormat(string imageTag)
    {
        if (string.IsNullOrEmpty(imageTag)) throw new FurnaceException("the image tag is empty");
        ImageTag = imageTag;
    }

    public string ImageTag { get; }

    public string Render(IReadOnlyList<ChatMessage> messages)
    {
        string system = DefaultSystemPrompt;
        var turns = new List<(string Role, string Content)>();
        foreach (ChatMessage m in messages)
        {
            switch (m.Role)
            {
                case "system": system = m.Content; break;
                case "user": turns.Add(("User", Tag(m.Content).Trim())); break;
                case "assistant": turns.Add(("Assistant", m.Content.Trim())); break;
                default: throw new FurnaceException($"role '{m.Role}' is not one of system, user, assistant");
            }
        }
        turns.Add(("Assistant", ""));
        var sb = new StringBuilder();
        if (!string.IsNullOrEmpty(system)) sb.Append(system).Append(Sep);
        for (int i = 0; i < turns.Count; i++)
        {
            var (role, content) = turns[i];
            if (content.Length > 0) sb.Append(role).Append(": ").Append(content).Append(i % 2 == 0 ? Sep : Sep2);
            else sb.Append(role).Append(':');
        }
        return sb.ToString().Trim();
    }

    /// <summary>One user turn with an optional system prompt (null: DeepSeek-VL's default one).</summary>
    public string Render(string userText, string? system = null) =>
        Render(system == null ? [new ChatMessage("user", userText)] : [new ChatMessage("system", system), new ChatMessage("user", userText)]);

    private string Tag(string text) => text.Replace(LlavaModel.ImagePlaceholder, ImageTag, StringComparison.Ordinal);
}
