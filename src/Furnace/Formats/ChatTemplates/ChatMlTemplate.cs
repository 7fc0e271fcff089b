// ChatML (<|im_start|>ROLE\n...<|im_end|>\n), the format of Qwen/Qwen2 instruct models; Qwen2's template inserts
// "You are a helpful assistant." as the system turn when the conversation does not start with one.
using System.Text;

namespace Furnace.Formats.ChatTemplates;

public sealed class ChatMlTemplate : ChatTemplate
{
    public const string QwenDefaultSystem = "You are a helpful assistant.";

    private readonly string? _defaultSystem;

    public ChatMlTemplate(string? defaultSystemPrompt, string name = "chatml")
        : base(name)
    {
        _defaultSystem = defaultSystemPrompt;
    }

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        RequireRoles(messages);
        var sb = new StringBuilder();
        for (int i = 0; i < messages.Count; i++)
        {
            if (i == 0 && _defaultSystem != null && messages[0].Role != "system")
                sb.Append("<|im_start|>system\n").Append(_defaultSystem).Append("<|im_end|>\n");
            sb.Append("<|im_start|>").Append(messages[i].Role).Append('\n').Append(messages[i].Content).Append("<|im_end|>\n");
        }
        if (addGenerationPrompt) sb.Append("<|im_start|>assistant\n");
        return sb.ToString();
    }
}
