// Who speaks a turn of a training conversation. LLaVA files say "human"/"gpt"; chat templates say "user"/"assistant".
namespace Furnace.Data;

public enum TrainingRole
{
    /// <summary>The prompt side (LLaVA "human"); not trained on.</summary>
    User,

    /// <summary>The answer side (LLaVA "gpt"); the tokens the loss is taken on.</summary>
    Assistant,
}
