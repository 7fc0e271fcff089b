// One turn of a conversation: role is "system", "user" or "assistant" (as in HF chat templates and OpenAI's API).
namespace Furnace.Formats.ChatTemplates;

public sealed record ChatMessage(string Role, string Content);
