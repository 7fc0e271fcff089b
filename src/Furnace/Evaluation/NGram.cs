// N-grams (n <= 4) of interned word ids, the dictionary key shared by Bleu and CiderD: a value type that
// hashes and compares without allocating, in place of coco-caption's Python tuples of strings. Unused slots
// hold -1, so the order is implied by the words.
namespace Furnace.Evaluation;

internal readonly struct NGram(int w0, int w1, int w2, int w3) : IEquatable<NGram>
{
    public const int MaxOrder = 4;

    private readonly int _w0 = w0, _w1 = w1, _w2 = w2, _w3 = w3;

    public int N => _w1 < 0 ? 1 : _w2 < 0 ? 2 : _w3 < 0 ? 3 : 4;

    public static NGram At(ReadOnlySpan<int> words, int start, int n) => n switch
    {
        1 => new NGram(words[start], -1, -1, -1),
        2 => new NGram(words[start], words[start + 1], -1, -1),
        3 => new NGram(words[start], words[start + 1], words[start + 2], -1),
        4 => new NGram(words[start], words[start + 1], words[start + 2], words[start + 3]),
        _ => throw new ArgumentOutOfRangeException(nameof(n), n, $"n-gram order must be 1..{MaxOrder}"),
    };

    /// <summary>Counts of every n-gram of order 1..maxN (coco-caption's precook).</summary>
    public static Dictionary<NGram, int> Count(ReadOnlySpan<int> words, int maxN)
    {
        var counts = new Dictionary<NGram, int>(words.Length * maxN);
        for (int n = 1; n <= maxN; n++)
            for (int i = 0; i + n <= words.Length; i++)
            {
                ref int slot = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, At(words, i, n), out _);
                slot++;
            }
        return counts;
    }

    public bool Equals(NGram other) => _w0 == other._w0 && _w1 == other._w1 && _w2 == other._w2 && _w3 == other._w3;

    public override bool Equals(object? obj) => obj is NGram other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_w0, _w1, _w2, _w3);
}
