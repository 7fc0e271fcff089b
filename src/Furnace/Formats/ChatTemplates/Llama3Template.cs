// meta-llama/Meta-Llama-3-8B-Instruct: "<|begin_of_text|>" once, then per message
// "<|start_header_id|>ROLE<|end_header_id|>\n\n" + content (trimmed, as Jinja's | trim) + "<|eot_id|>".
using System.Text;

namespace Furnace.Formats.ChatTemplates;

public sealed class Llama3Template : ChatTemplate
{
    public const string Bos = "<|begin_of_text|>";

    public Llama3Template()
        : base("llama3")
    {
    }

    public override bool RendersBos => true;

    public override string Render(IReadOnlyList<ChatMessage> messages, bool addGenerationPrompt)
    {
        RequireRoles(messages);
        var sb = new StringBuilder();
        for (int i = 0; i < messages.Count; i++)
        {
            if (i == 0) sb.Append(Bos);
            sb.Append("<|start_header_id|>").Append(messages[i].Role).Append("<|end_header_id|>\n\n")
              .Append(PythonStrip(messages[i].Content)).Append("<|eot_id|>");
        }
        if (addGenerationPrompt) sb.Append("<|start_header_id|>assistant<|end_header_id|>\n\n");
        return sb.ToString();
    }

    // Jinja's trim / Python's str.strip(): Unicode whitespace at both ends
    internal static string PythonStrip(string s) => s.Trim();
}
