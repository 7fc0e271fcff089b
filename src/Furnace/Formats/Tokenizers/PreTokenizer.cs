// Splits text into the words that BPE merges never cross: a sequence of SplitRules, each refining the pieces of the
// previous one (llama.cpp's unicode_regex_split with a list of regex_exprs; HF's Sequence of Split/ByteLevel/Digits).
namespace Furnace.Formats.Tokenizers;

internal sealed class PreTokenizer
{
    private readonly SplitRule[] _rules;

    public PreTokenizer(IEnumerable<SplitRule> rules)
    {
        _rules = [.. rules];
    }

    public static PreTokenizer None { get; } = new([]);

    public IReadOnlyList<SplitRule> Rules => _rules;

    public List<Piece> Split(ReadOnlySpan<int> cps)
    {
        var pieces = new List<Piece>();
        if (cps.Length == 0) return pieces;
        pieces.Add(new Piece(0, cps.Length));
        var next = new List<Piece>();
        foreach (var rule in _rules)
        {
            next.Clear();
            rule.Apply(cps, pieces, next);
            (pieces, next) = (next, pieces);
        }
        return pieces;
    }
}
