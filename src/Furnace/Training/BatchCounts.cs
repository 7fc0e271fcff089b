// What a batch holds, for throughput (samples/s, tokens/s) and for weighting validation losses: samples (images or
// conversations) and the tokens the loss is taken over (0 when the objective has no tokens, e.g. regression).
namespace Furnace.Training;

public readonly record struct BatchCounts(int Samples, int Tokens);
