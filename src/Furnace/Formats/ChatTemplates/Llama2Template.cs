// meta-llama/Llama-2-7b-chat-hf: "<s>[INST] user [/INST] answer </s><s>[INST] ..." with the system prompt wrapped
// in <<SYS>> ... <</SYS>> at the start of the first user turn; contents are stripped; roles must alternate.
// The prompt for a reply ends with " [/INST]", so there is no separate generation prompt.
using System.Text;

namespace Furnace.Formats.ChatTemplates;

public sealed class Llama2Template : ChatTemplate
{
    public const string Bos = "<s>";
    public const string Eos = "</s>";

    public Llama2Template()
        : base("llama2")
    {
    }

    public override bool RendersBos => true;

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        RequireRoles(messages);
        var sb = new StringBuilder();
        string? system = messages.Count > 0 && messages[0].Role == "system" ? messages[0].Content : null;
        int first = system != null ? 1 : 0;
        for (int i = first; i < messages.Count; i++)
        {
            var m = messages[i];
            bool shouldBeUser = (i - first) % 2 == 0;
            if ((m.Role == "user") != shouldBeUser || m.Role == "system")
                throw new FurnaceException("llama2 chat template: conversation roles must alternate user/assistant/user/assistant/...");
            string content = i == first && system != null ? "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + m.Content : m.Content;
            if (m.Role == "user") sb.Append(Bos).Append("[INST] ").Append(content.Trim()).Append(" [/INST]");
            else sb.Append(' ').Append(content.Trim()).Append(' ').Append(Eos);
        }
        return sb.ToString();
    }
}
