// A template-free format for base models and quick tests: one "role: content" line per message, and "assistant:"
// as the generation prompt.
using System.Text;

namespace Furnace.Formats.ChatTemplates;

public sealed class PlainTemplate : ChatTemplate
{
    public PlainTemplate()
        : base("plain")
    {
    }

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        RequireRoles(messages);
        var sb = new StringBuilder();
        foreach (var m in messages) sb.Append(m.Role).Append(": ").Append(m.Content).Append('\n');
        if (addGenerationPrompt) sb.Append("assistant:");
        return sb.ToString();
    }
}
