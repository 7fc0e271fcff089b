// deepseek-ai/DeepSeek-R1-Distill-* (Qwen and Llama distills), the official template after the January 2025 update:
// BOS, then the (last) system prompt, then "<｜User｜>..." and "<｜Assistant｜>...<｜end▁of▁sentence｜>" turns; an
// assistant turn keeps only what follows its "</think>" (the reasoning is not fed back), and the generation prompt
// opens the reasoning block: "<｜Assistant｜><think>\n". Tool-call turns are not supported.
// With reasoning off it is DeepSeek-V3's template (deepseek-ai/DeepSeek-V3 tokenizer_config.json; llama.cpp
// LLM_CHAT_TEMPLATE_DEEPSEEK_3): the same turns, assistant text kept whole, generation prompt "<｜Assistant｜>".
using System.Text;

namespace Furnace.Formats.ChatTemplates;

public sealed class DeepSeekR1Template : ChatTemplate
{
    public const string Bos = "<｜begin▁of▁sentence｜>";
    public const string Eos = "<｜end▁of▁sentence｜>";
    public const string User = "<｜User｜>";
    public const string Assistant = "<｜Assistant｜>";

    private readonly bool _reasoning;

    /// <param name="reasoning">R1 (strip reasoning from past turns, open "<think>") rather than V3.</param>
    public DeepSeekR1Template(bool reasoning = true)
        : base(reasoning ? "deepseek-r1" : "deepseek-v3")
    {
        _reasoning = reasoning;
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
                int think = _reasoning ? content.LastIndexOf("</think>", StringComparison.Ordinal) : -1;
                if (think >= 0) content = content[(think + "</think>".Length)..];
                sb.Append(Assistant).Append(content).Append(Eos);
            }
        }
        if (addGenerationPrompt) sb.Append(Assistant).Append(_reasoning ? "<think>\n" : "");
        return sb.ToString();
    }
}
