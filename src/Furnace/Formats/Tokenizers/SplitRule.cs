// One step of a pre-tokenizer: a regex that cuts every current piece of text into smaller pieces. Mirrors
// llama.cpp's unicode_regex_split (unicode.cpp): the GPT-2 and Llama-3 patterns run as hand-written scanners, every
// other pattern runs on a "collapsed" copy of the text in which each codepoint is one char. Patterns that use \p{..}
// see non-ASCII codepoints replaced by one placeholder per class (so \p{L} becomes [<letter>A-Za-z]); patterns with
// literal non-ASCII ranges see the codepoints themselves, astral ones folded onto placeholders for the astral ranges
// the pattern names. Either way non-ASCII whitespace becomes \v, which is what \s means in llama.cpp's std::regex.
using System.Text;
using System.Text.RegularExpressions;

namespace Furnace.Formats.Tokenizers;

/// <summary>What happens to the text a split pattern matches (the HF tokenizers SplitDelimiterBehavior).</summary>
internal enum SplitBehavior
{
    Isolated,
    Removed,
    MergedWithPrevious,
    MergedWithNext,
}

internal readonly record struct Piece(int Start, int Length);

internal sealed class SplitRule
{
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)";
    public const string Llama3PatternOriginal = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    public const string Llama3Pattern = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    // Placeholders for collapsed non-ASCII codepoints, one per class (llama.cpp uses the bytes 0xD0..0xD5).
    private const char PhOther = '\uE0D0', PhNumber = '\uE0D1', PhLetter = '\uE0D2', PhPunct = '\uE0D3', PhMark = '\uE0D4', PhSymbol = '\uE0D5';

    // Placeholders for astral codepoints in wide mode: one per astral range of the pattern, and one for the rest.
    private const char AstralOther = '\uF6FF';
    private const char AstralFirst = '\uF700';

    private enum Kind { Gpt2, Llama3, CollapsedRegex, WideRegex }

    private readonly Kind _kind;
    private readonly Regex? _regex;
    private readonly List<(int Lo, int Hi)> _astral = [];
    private readonly bool _invert;

    public SplitRule(string pattern, SplitBehavior behavior = SplitBehavior.Isolated, bool invert = false)
    {
        Pattern = pattern;
        Behavior = behavior;
        _invert = invert;
        bool plain = behavior == SplitBehavior.Isolated && !invert;
        if (plain && pattern is Gpt2Pattern or Gpt2Pattern + @"|\s+")
        {
            _kind = Kind.Gpt2;
            return;
        }
        if (plain && pattern is Llama3Pattern or Llama3PatternOriginal)
        {
            _kind = Kind.Llama3;
            return;
        }
        try
        {
            if (UsesCategories(pattern))
            {
                _kind = Kind.CollapsedRegex;
                _regex = new Regex(TranslateCollapsed(pattern), RegexOptions.CultureInvariant);
            }
            else
            {
                _kind = Kind.WideRegex;
                _regex = new Regex(TranslateWide(pattern), RegexOptions.CultureInvariant);
            }
        }
        catch (ArgumentException e)
        {
            throw new FurnaceException($"pre-tokenizer regex '{pattern}' is not supported: {e.Message}");
        }
    }

    public string Pattern { get; }

    public SplitBehavior Behavior { get; }

    public bool Invert => _invert;

    private static readonly string[] Categories = [@"\p{N}", @"\p{L}", @"\p{P}", @"\p{M}", @"\p{S}", @"\p{Lu}", @"\p{Ll}", @"\p{Lt}", @"\p{Lm}", @"\p{Lo}"];

    private static bool UsesCategories(string pattern)
    {
        foreach (var c in Categories)
        {
            if (pattern.Contains(c, StringComparison.Ordinal)) return true;
        }
        return false;
    }

    /// <summary>Splits each piece of <paramref name="input"/> (spans of <paramref name="cps"/>) into <paramref name="output"/>.</summary>
    public void Apply(ReadOnlySpan<int> cps, List<Piece> input, List<Piece> output)
    {
        switch (_kind)
        {
            case Kind.Gpt2:
                foreach (var p in input) SplitGpt2(cps, p, output);
                return;
            case Kind.Llama3:
                foreach (var p in input) SplitLlama3(cps, p, output);
                return;
        }
        string mapped = _kind == Kind.CollapsedRegex ? Collapse(cps) : Widen(cps);
        var segments = new List<(Piece Piece, bool IsMatch)>();
        foreach (var p in input)
        {
            segments.Clear();
            int pos = p.Start, end = p.Start + p.Length;
            for (var m = _regex!.Match(mapped, p.Start, p.Length); m.Success; m = m.NextMatch())
            {
                if (m.Length == 0) continue;
                if (m.Index > pos) segments.Add((new Piece(pos, m.Index - pos), _invert));
                segments.Add((new Piece(m.Index, m.Length), !_invert));
                pos = m.Index + m.Length;
            }
            if (pos < end) segments.Add((new Piece(pos, end - pos), _invert));
            Emit(segments, output);
        }
    }

    private void Emit(List<(Piece Piece, bool IsMatch)> segments, List<Piece> output)
    {
        switch (Behavior)
        {
            case SplitBehavior.Isolated:
                foreach (var (piece, _) in segments) output.Add(piece);
                break;
            case SplitBehavior.Removed:
                foreach (var (piece, isMatch) in segments)
                {
                    if (!isMatch) output.Add(piece);
                }
                break;
            case SplitBehavior.MergedWithPrevious:
            {
                // as HF: a delimiter joins the piece before it unless that piece was itself a delimiter
                int first = output.Count;
                bool prevMatch = false;
                foreach (var (piece, isMatch) in segments)
                {
                    if (isMatch && !prevMatch && output.Count > first)
                    {
                        var last = output[^1];
                        output[^1] = new Piece(last.Start, piece.Start + piece.Length - last.Start);
                    }
                    else output.Add(piece);
                    prevMatch = isMatch;
                }
                break;
            }
            case SplitBehavior.MergedWithNext:
            {
                // the mirror image: walk backwards, a delimiter joins the piece after it unless that was a delimiter
                var rev = new List<Piece>();
                bool nextMatch = false;
                for (int k = segments.Count - 1; k >= 0; k--)
                {
                    var (piece, isMatch) = segments[k];
                    if (isMatch && !nextMatch && rev.Count > 0)
                    {
                        var after = rev[^1];
                        rev[^1] = new Piece(piece.Start, after.Start + after.Length - piece.Start);
                    }
                    else rev.Add(piece);
                    nextMatch = isMatch;
                }
                for (int k = rev.Count - 1; k >= 0; k--) output.Add(rev[k]);
                break;
            }
        }
    }

    private static string Collapse(ReadOnlySpan<int> cps)
    {
        return string.Create(cps.Length, cps.ToArray(), static (dst, src) =>
        {
            for (int i = 0; i < src.Length; i++)
            {
                int cp = src[i];
                if (cp < 128)
                {
                    dst[i] = (char)cp;
                    continue;
                }
                var f = UnicodeFlags.Of(cp);
                dst[i] = (f & CpFlags.Whitespace) != 0 ? '\v'
                    : (f & CpFlags.Number) != 0 ? PhNumber
                    : (f & CpFlags.Letter) != 0 ? PhLetter
                    : (f & CpFlags.Punctuation) != 0 ? PhPunct
                    : (f & CpFlags.Mark) != 0 ? PhMark
                    : (f & CpFlags.Symbol) != 0 ? PhSymbol
                    : PhOther;
            }
        });
    }

    private string Widen(ReadOnlySpan<int> cps)
    {
        var dst = new char[cps.Length];
        for (int i = 0; i < cps.Length; i++)
        {
            int cp = cps[i];
            if (cp < 128) dst[i] = (char)cp;
            else if (UnicodeFlags.IsWhitespace(cp)) dst[i] = '\v';
            else if (cp >= 0x10000)
            {
                dst[i] = AstralOther;
                for (int k = 0; k < _astral.Count; k++)
                {
                    if (cp >= _astral[k].Lo && cp <= _astral[k].Hi)
                    {
                        dst[i] = (char)(AstralFirst + k);
                        break;
                    }
                }
            }
            // a real private-use char in the placeholder range must not impersonate an astral range
            else if (cp >= AstralOther && cp <= AstralFirst + 0xFF) dst[i] = AstralOther;
            else dst[i] = (char)cp;
        }
        return new string(dst);
    }

    // ECMAScript `$` (std::regex without multiline) is the end of input only; .NET's `$` also matches before a final \n.
    private static string TranslateCollapsed(string pattern)
    {
        var sb = new StringBuilder();
        bool inside = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c > 127) throw new ArgumentException("a pattern with both \\p{..} classes and non-ASCII characters");
            if (c == '\\' && i + 1 < pattern.Length)
            {
                if (pattern[i + 1] == 'p' && i + 2 < pattern.Length && pattern[i + 2] == '{')
                {
                    int close = pattern.IndexOf('}', i + 3);
                    string? set = close < 0 ? null : CollapsedClass(pattern[i..(close + 1)]);
                    if (set != null)
                    {
                        sb.Append(inside ? set : "[" + set + "]");
                        i = close;
                        continue;
                    }
                }
                sb.Append(c).Append(pattern[++i]);
                continue;
            }
            if (c == '[' && !inside) inside = true;
            else if (c == ']' && inside) inside = false;
            else if (c == '$' && !inside)
            {
                sb.Append(@"\z");
                continue;
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static string? CollapsedClass(string p) => p switch
    {
        @"\p{N}" => PhNumber + "0-9",
        @"\p{L}" or @"\p{Lu}" or @"\p{Ll}" or @"\p{Lt}" or @"\p{Lm}" or @"\p{Lo}" => PhLetter + "A-Za-z",
        @"\p{P}" => PhPunct + @"!-#%-*,-/:-;?-@\[-\]_\{\}",
        @"\p{M}" => PhMark.ToString(),
        @"\p{S}" => PhSymbol + @"\$\+<->\^`\|",
        _ => null,
    };

    private string TranslateWide(string pattern)
    {
        var sb = new StringBuilder();
        bool inside = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (char.IsHighSurrogate(c) && i + 1 < pattern.Length)
            {
                int lo = char.ConvertToUtf32(c, pattern[i + 1]);
                int hi = lo;
                i += 2;
                if (inside && i + 2 < pattern.Length && pattern[i] == '-' && char.IsHighSurrogate(pattern[i + 1]))
                {
                    hi = char.ConvertToUtf32(pattern[i + 1], pattern[i + 2]);
                    i += 3;
                }
                i--;
                if (_astral.Count >= 0xFF) throw new ArgumentException("too many astral ranges");
                _astral.Add((lo, hi));
                sb.Append((char)(AstralFirst + _astral.Count - 1));
                continue;
            }
            if (c == '\\' && i + 1 < pattern.Length)
            {
                sb.Append(c).Append(pattern[++i]);
                continue;
            }
            if (c == '[' && !inside) inside = true;
            else if (c == ']' && inside) inside = false;
            else if (c == '$' && !inside)
            {
                sb.Append(@"\z");
                continue;
            }
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static CpFlags FlagsAt(ReadOnlySpan<int> cps, int pos, int ini, int end) =>
        pos >= ini && pos < end ? UnicodeFlags.Of(cps[pos]) : CpFlags.None;

    private static int CpAt(ReadOnlySpan<int> cps, int pos, int ini, int end) => pos >= ini && pos < end ? cps[pos] : -1;

    private const CpFlags WordLike = CpFlags.Whitespace | CpFlags.Letter | CpFlags.Number;

    // 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+ — as unicode_regex_split_custom_gpt2.
    private static void SplitGpt2(ReadOnlySpan<int> cps, Piece piece, List<Piece> output)
    {
        int ini = piece.Start, end = piece.Start + piece.Length;
        int prevEnd = ini;
        void Add(int to, List<Piece> o)
        {
            if (to > prevEnd) o.Add(new Piece(prevEnd, to - prevEnd));
            prevEnd = to;
        }
        int pos = ini;
        while (pos < end)
        {
            int cp = cps[pos];
            var flags = UnicodeFlags.Of(cp);
            if (cp == '\'' && pos + 1 < end)
            {
                int n1 = cps[pos + 1];
                if (n1 is 's' or 't' or 'm' or 'd')
                {
                    pos += 2;
                    Add(pos, output);
                    continue;
                }
                if (pos + 2 < end)
                {
                    int n2 = cps[pos + 2];
                    if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l'))
                    {
                        pos += 3;
                        Add(pos, output);
                        continue;
                    }
                }
            }
            var f2 = cp == ' ' ? FlagsAt(cps, pos + 1, ini, end) : flags;
            if ((f2 & CpFlags.Letter) != 0)
            {
                if (cp == ' ') pos++;
                while ((f2 & CpFlags.Letter) != 0) f2 = FlagsAt(cps, ++pos, ini, end);
                Add(pos, output);
                continue;
            }
            if ((f2 & CpFlags.Number) != 0)
            {
                if (cp == ' ') pos++;
                while ((f2 & CpFlags.Number) != 0) f2 = FlagsAt(cps, ++pos, ini, end);
                Add(pos, output);
                continue;
            }
            if ((f2 & WordLike) == 0 && f2 != CpFlags.None)
            {
                if (cp == ' ') pos++;
                while ((f2 & WordLike) == 0 && f2 != CpFlags.None) f2 = FlagsAt(cps, ++pos, ini, end);
                Add(pos, output);
                continue;
            }
            int ws = 0;
            while ((FlagsAt(cps, pos + ws, ini, end) & CpFlags.Whitespace) != 0) ws++;
            if (ws > 1 && CpAt(cps, pos + ws, ini, end) >= 0)
            {
                pos += ws - 1;
                Add(pos, output);
                continue;
            }
            if (ws > 0)
            {
                pos += ws;
                Add(pos, output);
                continue;
            }
            Add(++pos, output);
        }
    }

    // (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
    // — as unicode_regex_split_custom_llama3.
    private static void SplitLlama3(ReadOnlySpan<int> cps, Piece piece, List<Piece> output)
    {
        int ini = piece.Start, end = piece.Start + piece.Length;
        int prevEnd = ini;
        void Add(int to, List<Piece> o)
        {
            if (to > prevEnd) o.Add(new Piece(prevEnd, to - prevEnd));
            prevEnd = to;
        }
        int pos = ini;
        while (pos < end)
        {
            int cp = cps[pos];
            var flags = UnicodeFlags.Of(cp);
            if (cp == '\'' && pos + 1 < end)
            {
                int n1 = ToLowerAscii(cps[pos + 1]);
                if (n1 is 's' or 't' or 'm' or 'd')
                {
                    pos += 2;
                    Add(pos, output);
                    continue;
                }
                if (pos + 2 < end)
                {
                    int n2 = ToLowerAscii(cps[pos + 2]);
                    if ((n1 == 'r' && n2 == 'e') || (n1 == 'v' && n2 == 'e') || (n1 == 'l' && n2 == 'l'))
                    {
                        pos += 3;
                        Add(pos, output);
                        continue;
                    }
                }
            }
            if (!(cp == '\r' || cp == '\n' || (flags & CpFlags.Number) != 0))
            {
                if ((flags & CpFlags.Letter) != 0 || (FlagsAt(cps, pos + 1, ini, end) & CpFlags.Letter) != 0)
                {
                    pos++;
                    while ((FlagsAt(cps, pos, ini, end) & CpFlags.Letter) != 0) pos++;
                    Add(pos, output);
                    continue;
                }
            }
            if ((flags & CpFlags.Number) != 0)
            {
                int start = pos;
                while ((FlagsAt(cps, pos, ini, end) & CpFlags.Number) != 0)
                {
                    if (++pos - start >= 3)
                    {
                        Add(pos, output);
                        start = pos;
                    }
                }
                Add(pos, output);
                continue;
            }
            var f2 = cp == ' ' ? FlagsAt(cps, pos + 1, ini, end) : flags;
            if ((f2 & WordLike) == 0 && flags != CpFlags.None)
            {
                if (cp == ' ') pos++;
                while ((f2 & WordLike) == 0 && f2 != CpFlags.None) f2 = FlagsAt(cps, ++pos, ini, end);
                int c2 = CpAt(cps, pos, ini, end);
                while (c2 is '\r' or '\n') c2 = CpAt(cps, ++pos, ini, end);
                Add(pos, output);
                continue;
            }
            int ws = 0, lastNewline = 0;
            while ((FlagsAt(cps, pos + ws, ini, end) & CpFlags.Whitespace) != 0)
            {
                int c2 = cps[pos + ws];
                if (c2 is '\r' or '\n') lastNewline = pos + ws + 1;
                ws++;
            }
            if (lastNewline > 0)
            {
                pos = lastNewline;
                Add(pos, output);
                continue;
            }
            if (ws > 1 && CpAt(cps, pos + ws, ini, end) >= 0)
            {
                pos += ws - 1;
                Add(pos, output);
                continue;
            }
            if (ws > 0)
            {
                pos += ws;
                Add(pos, output);
                continue;
            }
            Add(++pos, output);
        }
    }

    // llama.cpp lowercases with the full Unicode table, but only the results s/t/m/d/r/v/e/l matter here, and the
    // only non-ASCII codepoint whose simple lowercase is one of those would be U+212A KELVIN SIGN -> 'k', not in the set.
    private static int ToLowerAscii(int cp) => cp is >= 'A' and <= 'Z' ? cp + 32 : cp;
}
