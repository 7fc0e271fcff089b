// One tokenized training example in HF LlavaForConditionalGeneration's terms: input_ids with each <image>
// placeholder expanded into one image_token_index slot per feature row, and labels aligned with input_ids (labels[t]
// = input_ids[t] on answer tokens, -100 on prompt, template and image positions). The loss shifts them: the logits at
// position t are scored against labels[t + 1].
namespace Furnace.Training;

public sealed record TrainingSample(int[] InputIds, int[] Labels, int Images)
{
    public const int IgnoreIndex = -100;

    public int Positions => InputIds.Length;

    /// <summary>Positions whose label is scored (the answer tokens).</summary>
    public int AnswerTokens => Labels.Count(l => l != IgnoreIndex);
}
