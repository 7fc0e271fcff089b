// What one optimiser step reports (one line of metrics.jsonl): loss is the mean over the step's micro-batches, lr the
// first trainable group's learning rate at that step, grad_norm the global norm before clipping, rates over the step's
// wall time, elapsed since the run began (resumed runs continue the count).
namespace Furnace.Training;

public sealed record StepMetrics(int Step, int TotalSteps, double Loss, double LearningRate, double GradNorm, int Samples, int Tokens,
    double SamplesPerSecond, double TokensPerSecond, double ElapsedSeconds, double Epoch, bool Skipped = false);
