// One captioned image of a model evaluation, as `furnace eval --model` logs it: the image id, the caption, and what
// it cost (milliseconds from reading the image to the finished caption; generated tokens).
namespace Furnace.Evaluation;

public sealed record PredictionRecord(string ImageId, string Caption, double Milliseconds, int Tokens);
