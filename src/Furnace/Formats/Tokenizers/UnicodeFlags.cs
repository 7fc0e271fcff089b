// Codepoint classes as llama.cpp's unicode.cpp sees them (unicode_cpt_flags: \p{L}, \p{N}, \p{P}, \p{S}, \p{M},
// control, undefined, and the White_Space property). The pre-tokenizers of byte-level BPE vocabularies are defined
// in those terms, so the tokens a text splits into depend on exactly these classes. .NET's category tables are a
// slightly newer Unicode than llama.cpp's generated table; only characters assigned since then can differ.
using System.Globalization;

namespace Furnace.Formats.Tokenizers;

[Flags]
internal enum CpFlags : ushort
{
    None = 0,
    Undefined = 1 << 0,
    Number = 1 << 1,
    Letter = 1 << 2,
    Separator = 1 << 3,
    Mark = 1 << 4,
    Punctuation = 1 << 5,
    Symbol = 1 << 6,
    Control = 1 << 7,
    Whitespace = 1 << 8,
}

internal static class UnicodeFlags
{
    // BMP lookups dominate every tokenization, so they are tabulated once; astral codepoints are classified on demand.
    private static readonly CpFlags[] Bmp = BuildBmp();

    public static CpFlags Of(int cp) => (uint)cp < 0x10000 ? Bmp[cp] : Classify(cp);

    public static bool IsLetter(int cp) => (Of(cp) & CpFlags.Letter) != 0;

    public static bool IsNumber(int cp) => (Of(cp) & CpFlags.Number) != 0;

    public static bool IsWhitespace(int cp) => (Of(cp) & CpFlags.Whitespace) != 0;

    private static CpFlags[] BuildBmp()
    {
        var t = new CpFlags[0x10000];
        for (int cp = 0; cp < t.Length; cp++) t[cp] = Classify(cp);
        return t;
    }

    private static CpFlags Classify(int cp)
    {
        if (cp > 0x10FFFF) return CpFlags.Undefined;
        CpFlags f = CharUnicodeInfo.GetUnicodeCategory(cp) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CpFlags.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CpFlags.Number,
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark => CpFlags.Mark,
            UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation or UnicodeCategory.OpenPunctuation
                or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
                or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation => CpFlags.Punctuation,
            UnicodeCategory.MathSymbol or UnicodeCategory.CurrencySymbol or UnicodeCategory.ModifierSymbol
                or UnicodeCategory.OtherSymbol => CpFlags.Symbol,
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => CpFlags.Separator,
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate => CpFlags.Control,
            _ => CpFlags.Undefined,
        };
        if (IsWhiteSpaceProperty(cp)) f |= CpFlags.Whitespace;
        return f;
    }

    // The Unicode White_Space property (PropList.txt), which is what llama.cpp, Rust's and Python's \s mean.
    private static bool IsWhiteSpaceProperty(int cp) =>
        cp is (>= 0x09 and <= 0x0D) or 0x20 or 0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A)
            or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000;

    /// <summary>Codepoints of a UTF-16 string; lone surrogates become U+FFFD, as they would after a UTF-8 round trip.</summary>
    public static int[] Codepoints(ReadOnlySpan<char> s)
    {
        var cps = new int[s.Length];
        int n = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1]))
            {
                cps[n++] = char.ConvertToUtf32(c, s[i + 1]);
                i++;
            }
            else
            {
                cps[n++] = char.IsSurrogate(c) ? 0xFFFD : c;
            }
        }
        return n == cps.Length ? cps : cps[..n];
    }
}
