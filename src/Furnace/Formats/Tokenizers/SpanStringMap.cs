// A string -> id dictionary that can also be probed with a span, so the merge loops of the tokenizer models look up
// candidate pieces (always a contiguous slice of the word) without allocating a string per probe.
namespace Furnace.Formats.Tokenizers;

internal sealed class SpanStringMap
{
    private readonly Dictionary<string, int> _map;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _spans;

    public SpanStringMap(int capacity = 0)
    {
        _map = new Dictionary<string, int>(capacity, StringComparer.Ordinal);
        _spans = _map.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public int Count => _map.Count;

    public bool TryAdd(string key, int id) => _map.TryAdd(key, id);

    public int Get(string key) => _map.TryGetValue(key, out int id) ? id : -1;

    public int Get(ReadOnlySpan<char> key) => _spans.TryGetValue(key, out int id) ? id : -1;
}
