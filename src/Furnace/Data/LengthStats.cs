// Summary of a list of lengths (characters or words of answers): min, mean, median, max.
namespace Furnace.Data;

public sealed record LengthStats(int Min, double Mean, double Median, int Max)
{
    public static LengthStats Of(IReadOnlyCollection<int> values)
    {
        if (values.Count == 0) return new LengthStats(0, 0, 0, 0);
        int[] sorted = [.. values.Order()];
        int n = sorted.Length;
        double median = n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
        return new LengthStats(sorted[0], sorted.Average(), median, sorted[^1]);
    }
}
