// One turn of a LLaVA training conversation (llava_instruct_150k.json "conversations": {"from": "human"|"gpt",
// "value": "..."}; the first human turn carries the "<image>" placeholder where the image goes).
namespace Furnace.Training;

public sealed record ConversationTurn(string From, string Value)
{
    public const string Human = "human";
    public const string Gpt = "gpt";

    public bool IsHuman => From is Human or "user";

    public bool IsGpt => From is Gpt or "assistant";
}
