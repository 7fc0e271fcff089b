// One training sample, whatever file it came from: an optional image and a conversation that alternates user and
// assistant turns, starting with the user and ending with the assistant. A captioned image becomes
// user "<image>\n" + the captioning instruction, assistant = the caption; a LLaVA conversation keeps its turns.
using Furnace.Formats.ChatTemplates;

namespace Furnace.Data;

/// <param name="Id">The sample's id as the file gives it (LLaVA "id", COCO image id, JSONL id, file stem). Not
/// unique: LLaVA-Instruct repeats image ids across its conversation kinds, and a captioned image yields one example
/// per reference caption.</param>
/// <param name="ImagePath">Absolute path of the image, or null for a text-only sample.</param>
/// <param name="Turns">At least two turns, user first, alternating, assistant last.</param>
public sealed record TrainingExample(string Id, string? ImagePath, IReadOnlyList<TrainingTurn> Turns)
{
    public bool HasImage => ImagePath is not null;

    /// <summary>The conversation as chat-template messages (for ChatTemplate rendering).</summary>
    public IReadOnlyList<ChatMessage> ToChatMessages() => Turns.Select(t => t.ToChatMessage()).ToArray();
}
