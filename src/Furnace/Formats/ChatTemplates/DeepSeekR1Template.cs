// deepseek-ai/DeepSeek-R1-Distill-* (Qwen and Llama distills), the official template after the January 2025 update:
// BOS, then the (last) system prompt, then "<｜User｜>..." and "<｜Assistant｜>...<｜end▁of▁sentence｜>" turns; an
// assistant turn keeps only what follows its "</think>" (the reasoning is not fed back), and the generation prompt
// opens the reasoning block: "<｜Assistant｜><think>\n". Tool-call turns are not supported.
using System.Text;

namespace Furnace.Formats.ChatTemplates;

public sealed class DeepSeekR1Template : ChatTemplate
{
    public const string Bos = "<｜begin▁of▁sentence｜>";
    public const string Eos = "<｜end▁of▁sentence｜>";
    public const string User = "<｜User｜>";
    public const string Assistant = "<｜Assistant｜>";

    public DeepSeekR1Template()
        : base("deepseek-r1")
    {
    }

    public override bool RendersBos => true;

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        RequireRoles(messages);
        string system = "";
        foreach (var m in messages)
        {
            if (m.Role == "system") system = m.Content;
        }
        var sb = new StringBuilder(Bos).Append(system);
        foreach (var m in messages)
        {
            if (m.Role == "user") sb.Append(User).Append(m.Content);
            else if (m.Role == "assistant")
            {
                string content = m.Content;
                int think = content.LastIndexOf("</think>", StringComparison.Ordinal);
                if (think >= 0) content = content[(think + "</think>".Length)..];
                sb.Append(Assistant).Append(content).Append(Eos);
            }
        }
        if (addGenerationPrompt) sb.Append(Assistant).Append("<think>\n");
        return sb.ToString();
    }
}
