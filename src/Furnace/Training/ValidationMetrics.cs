// One validation pass: the loss over the validation batches (weighted by tokens, or by samples when the objective
// has no tokens), at the step it followed.
namespace Furnace.Training;

public sealed record ValidationMetrics(int Step, double Loss, int Samples, int Tokens, double ElapsedSeconds);
