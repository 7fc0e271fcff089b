// How a VLM family writes its prompts when it does not use the tokenizer's chat template: the placeholder token its
// processor expands into image slots, and the conversation (system / user / assistant messages, ending in a user
// turn) rendered with the generation prompt. LlavaModel uses it in place of its template when one is set (DeepSeek-VL's
// "deepseek" conversation); user text written with Furnace's generic "<image>" placeholder is mapped to ImageTag.
using Furnace.Formats.ChatTemplates;

namespace Furnace.Models.Vlm;

public interface IVlmPromptFormat
{
    /// <summary>The image placeholder token in rendered prompts (LLaVA: "&lt;image&gt;"; DeepSeek-VL: "&lt;image_placeholder&gt;").</summary>
    string ImageTag { get; }

    /// <summary>The conversation rendered for generation; placeholders stay in the text as ImageTag.</summary>
    string Render(IReadOnlyList<ChatMessage> messages);
}
