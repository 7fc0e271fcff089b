// Turns a LLaVA conversation into a TrainingSample the way LLaVA's preprocess does (llava/train/train.py
// preprocess_v1: render the conversation through the chat format, mask everything but the assistant answers),
// through the model's own chat template and the same tokenization as inference (LlavaModel.TokenizeSegments): the
// prompt of a one-turn sample is exactly the inference prompt of LlavaModel.BuildPrompt(RenderChat(...)).
// Each assistant turn is rendered after the prompt that asks for it; the text between is the answer (with the
// template's end-of-turn marker, e.g. "</s>" or "<|im_end|>\n"), which is what gets labels.
using Furnace.Formats.ChatTemplates;
using Furnace.Models.Vlm;

namespace Furnace.Training;

public sealed class TrainingSampleBuilder
{
    public TrainingSampleBuilder(LlavaModel model, string? system = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        Model = model;
        System = system;
    }

    public LlavaModel Model { get; }

    public string? System { get; }

    /// <summary>A captioning sample: user "&lt;image&gt;\n" + instruction, assistant the caption.</summary>
    public TrainingSample Caption(string caption, string instruction = CaptionInstruction.English)
    {
        string user = instruction.Contains(LlavaModel.ImagePlaceholder, StringComparison.Ordinal) ? instruction : LlavaModel.ImagePlaceholder + "\n" + instruction;
        return Build([new ConversationTurn(ConversationTurn.Human, user), new ConversationTurn(ConversationTurn.Gpt, caption)]);
    }

    /// <summary>
    /// The inference prompt of a user turn as input ids with image slots expanded (the ids LlavaModel.BuildPrompt
    /// gives for RenderChat(userText)): what a trained model is asked at caption time.
    /// </summary>
    public int[] Prompt(string userText)
    {
        var messages = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(System)) messages.Add(new ChatMessage("system", System));
        messages.Add(new ChatMessage("user", userText));
        var ids = new List<int>();
        List<int[]> segments = Model.TokenizeSegments(Render(messages, generationPrompt: true));
        for (int s = 0; s < segments.Count; s++)
        {
            if (s > 0) ids.AddRange(Enumerable.Repeat(Model.ImageTokenIndex, Model.TokensPerImage));
            ids.AddRange(segments[s]);
        }
        return ids.ToArray();
    }

    /// <summary>The caption prompt ids for an instruction (with "&lt;image&gt;\n" in front unless it places one).</summary>
    public int[] CaptionPrompt(string instruction = CaptionInstruction.English) =>
        Prompt(instruction.Contains(LlavaModel.ImagePlaceholder, StringComparison.Ordinal) ? instruction : LlavaModel.ImagePlaceholder + "\n" + instruction);

    /// <summary>
    /// Chat messages (an optional leading "system", then user/assistant pairs), e.g. Furnace.Data's
    /// TrainingExample.ToChatMessages(); a system message here replaces the builder's.
    /// </summary>
    public TrainingSample Build(IReadOnlyList<ChatMessage> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        string? system = messages.Count > 0 && messages[0].Role == "system" ? messages[0].Content : System;
        var turns = messages.SkipWhile(m => m.Role == "system")
            .Select(m => new ConversationTurn(m.Role == "user" ? ConversationTurn.Human : m.Role == "assistant" ? ConversationTurn.Gpt : m.Role, m.Content)).ToList();
        return Build(turns, system);
    }

    /// <summary>Alternating human/gpt turns, starting with human; placeholders anywhere in human turns.</summary>
    public TrainingSample Build(IReadOnlyList<ConversationTurn> turns) => Build(turns, System);

    private TrainingSample Build(IReadOnlyList<ConversationTurn> turns, string? system)
    {
        ArgumentNullException.ThrowIfNull(turns);
        if (turns.Count == 0 || turns.Count % 2 != 0) throw new FurnaceException($"a training conversation needs human/gpt turn pairs, got {turns.Count} turns");
        var messages = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(system)) messages.Add(new ChatMessage("system", system));
        var ids = new List<int>();
        var labels = new List<int>();
        int images = 0, rendered = 0;
        string previous = "";
        for (int t = 0; t < turns.Count; t += 2)
        {
            ConversationTurn user = turns[t], answer = turns[t + 1];
            if (!user.IsHuman || !answer.IsGpt)
                throw new FurnaceException($"conversation turn {t + 1} is from '{user.From}' and turn {t + 2} from '{answer.From}'; expected human then gpt");
            if (answer.Value.Contains(LlavaModel.ImagePlaceholder, StringComparison.Ordinal))
                throw new FurnaceException($"conversation turn {t + 2}: an answer cannot hold the {LlavaModel.ImagePlaceholder} placeholder");
            messages.Add(new ChatMessage("user", user.Value));
            string prompt = Render(messages, generationPrompt: true);
            messages.Add(new ChatMessage("assistant", answer.Value));
            string full = Render(messages, generationPrompt: false);
            if (!prompt.StartsWith(previous, StringComparison.Ordinal) || !full.StartsWith(prompt, StringComparison.Ordinal))
                throw new FurnaceException($"chat template '{Model.Template?.Name ?? "llava"}' does not render conversations incrementally; it cannot mask answers");

            // the prompt part: text + image slots, no labels
            List<int[]> segments = Model.TokenizeSegments(prompt[previous.Length..], atStart: rendered == 0);
            for (int s = 0; s < segments.Count; s++)
            {
                if (s > 0)
                {
                    for (int k = 0; k < Model.TokensPerImage; k++) Push(Model.ImageTokenIndex, false);
                    images++;
                }
                foreach (int id in segments[s]) Push(id, false);
            }
            // the answer part, end-of-turn marker included: labelled
            foreach (int id in Model.Tokenizer.Encode(full[prompt.Length..], addSpecial: false, parseSpecial: true)) Push(id, true);
            previous = full;
            rendered++;
        }
        return new TrainingSample(ids.ToArray(), labels.ToArray(), images);

        void Push(int id, bool answer)
        {
            ids.Add(id);
            labels.Add(answer ? id : TrainingSample.IgnoreIndex);
        }
    }

    // LLaVA-1.5's conversation format (conv_vicuna_v1) when the decoder has no recognised template:
    // "[system ]USER: u1 ASSISTANT: a1</s>USER: u2 ASSISTANT:" — RenderChat's format, extended to several turns; the
    // end of an answer is the tokenizer's EOS token text.
    private string Render(List<ChatMessage> messages, bool generationPrompt)
    {
        if (Model.Template != null) return Model.Template.Render(messages, generationPrompt);
        var sb = new System.Text.StringBuilder();
        foreach (var m in messages)
        {
            switch (m.Role)
            {
                case "system": sb.Append(m.Content).Append(' '); break;
                case "user": sb.Append("USER: ").Append(m.Content).Append(" ASSISTANT:"); break;
                default: sb.Append(' ').Append(m.Content).Append(Model.Tokenizer.EosId is int eos ? Model.Tokenizer.TokenText(eos) : ""); break;
            }
        }
        return sb.ToString();
    }
}
