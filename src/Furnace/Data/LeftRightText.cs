// Left/right words in training text, for horizontal-flip augmentation: a mirrored image must not keep a caption
// that says "the dog on the left". English: left/right and their -most, -ward(s), -hand forms, whole words, any
// case (the swap keeps the case: Left → Right, LEFT → RIGHT). Chinese: 左 and 右 (左边, 右侧, 左手, …), except
// the pair 左右, which means "about" (十岁左右) or "left and right" — true of the mirror image too, so it is left
// alone. English "right" also means "correct" and "left" is the past of "leave"; those are swapped too (a
// documented imprecision: with LeftRightPolicy.NoFlip such examples are simply not flipped).
using System.Text;
using System.Text.RegularExpressions;

namespace Furnace.Data;

public static partial class LeftRightText
{
    [GeneratedRegex(@"\b(left|right)(?=(most|wards?|hand|-hand)?\b)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex EnglishWord();

    /// <summary>Whether the text names a side (an English left/right word, or 左/右 outside the pair 左右).</summary>
    public static bool Mentions(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (EnglishWord().IsMatch(text)) return true;
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] is '左' or '右' && !InPair(text, i)) return true;
        }
        return false;
    }

    /// <summary>The text with left and right exchanged (see the file header for the rules).</summary>
    public static string Swap(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string swapped = EnglishWord().Replace(text, m => SwapWord(m.Value));
        if (swapped.IndexOfAny(['左', '右']) < 0) return swapped;
        var sb = new StringBuilder(swapped);
        for (int i = 0; i < sb.Length; i++)
        {
            if (swapped[i] is '左' or '右' && !InPair(swapped, i)) sb[i] = swapped[i] == '左' ? '右' : '左';
        }
        return sb.ToString();
    }

    private static bool InPair(string s, int i) =>
        (s[i] == '左' && i + 1 < s.Length && s[i + 1] == '右') || (s[i] == '右' && i > 0 && s[i - 1] == '左');

    private static string SwapWord(string word)
    {
        bool left = word.Equals("left", StringComparison.OrdinalIgnoreCase);
        string to = left ? "right" : "left";
        if (word.All(char.IsUpper)) return to.ToUpperInvariant();
        if (char.IsUpper(word[0])) return char.ToUpperInvariant(to[0]) + to[1..];
        return to;
    }
}
