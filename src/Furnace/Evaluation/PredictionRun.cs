// What makes two model evaluations the same run, so that an interrupted one may be resumed: the model, the dataset,
// the instruction and the caption length. Written as the first line of the predictions log.
namespace Furnace.Evaluation;

public sealed record PredictionRun(string Model, string Data, string Instruction, int MaxTokens);
