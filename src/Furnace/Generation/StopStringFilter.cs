// Streams text while watching for stop strings: text that could still be the start of a stop string is held back
// until it is clearly not one, so a stop string never reaches the caller, even when it spans several tokens.
using System.Text;

namespace Furnace.Generation;

public sealed class StopStringFilter
{
    private readonly IReadOnlyList<string> _stops;
    private readonly StringBuilder _pending = new();

    public StopStringFilter(IReadOnlyList<string> stops)
    {
        _stops = stops;
    }

    public bool Stopped { get; private set; }

    /// <summary>Adds generated text; returns the part that is safe to emit. Sets Stopped when a stop string appeared.</summary>
    public string Push(string text)
    {
        if (Stopped || text.Length == 0) return string.Empty;
        if (_stops.Count == 0) return text;
        _pending.Append(text);
        string s = _pending.ToString();
        int cut = -1;
        foreach (string stop in _stops)
        {
            int i = s.IndexOf(stop, StringComparison.Ordinal);
            if (i >= 0 && (cut < 0 || i < cut)) cut = i;
        }
        if (cut >= 0)
        {
            Stopped = true;
            _pending.Clear();
            return s[..cut];
        }
        int hold = 0;
        foreach (string stop in _stops)
        {
            for (int k = Math.Min(stop.Length - 1, s.Length); k > hold; k--)
            {
                if (s.AsSpan(s.Length - k).SequenceEqual(stop.AsSpan(0, k))) { hold = k; break; }
            }
        }
        _pending.Clear().Append(s, s.Length - hold, hold);
        return s[..^hold];
    }

    /// <summary>The held-back text at the end of generation (it did not become a stop string).</summary>
    public string Flush()
    {
        string s = Stopped ? string.Empty : _pending.ToString();
        _pending.Clear();
        return s;
    }
}
