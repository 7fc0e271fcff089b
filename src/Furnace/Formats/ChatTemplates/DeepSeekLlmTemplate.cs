// deepseek-ai/deepseek-llm-7b-chat (and DeepSeek-V2-Chat): "{{ bos_token }}" then "User: ...\n\n" and
// "Assistant: ...<｜end▁of▁sentence｜>" turns, system text bare followed by "\n\n", generation prompt "Assistant:".
using System.Text;

namespace Furnace.Formats.ChatTemplates;

public sealed class DeepSeekLlmTemplate : ChatTemplate
{
    public const string Bos = "<｜begin▁of▁sentence｜>";
    public const string Eos = "<｜end▁of▁sentence｜>";

    public DeepSeekLlmTemplate()
        : base("deepseek-llm")
    {
    }

    public override bool RendersBos => true;

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        RequireRoles(messages);
        var sb = new StringBuilder(Bos);
        foreach (var m in messages)
        {
            switch (m.Role)
            {
                case "user":
                    sb.Append("User: ").Append(m.Content).Append("\n\n");
                    break;
                case "assistant":
                    sb.Append("Assistant: ").Append(m.Content).Append(Eos);
                    break;
                default:
                    sb.Append(m.Content).Append("\n\n");
                    break;
            }
        }
        if (addGenerationPrompt) sb.Append("Assistant:");
        return sb.ToString();
    }
}
