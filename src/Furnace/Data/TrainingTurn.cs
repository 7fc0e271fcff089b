// One turn of a training conversation: its speaker and its text (the user turn that goes with an image holds the
// "<image>" placeholder once, where the image features are spliced in).
using Furnace.Formats.ChatTemplates;

namespace Furnace.Data;

public sealed record TrainingTurn(TrainingRole Role, string Text)
{
    /// <summary>The turn as a chat-template message ("user" / "assistant").</summary>
    public ChatMessage ToChatMessage() => new(Role == TrainingRole.User ? "user" : "assistant", Text);
}
