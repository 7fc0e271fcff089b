// Seeded random strings that stress a tokenizer: mixed scripts, CJK, emoji with ZWJ and variation selectors,
// combining marks, astral letters, digit runs, whitespace runs, contractions, and special-token look-alikes.
using System.Text;

namespace Furnace.Oracle.Tests.Tokenizers;

internal static class RandomText
{
    private static readonly string[] Words =
    [
        "Hello", "world", " the", "I'm", "you'll", "it's", "WE'VE", "they'D", "'s", "'ll", "don't", "Führer", "naïve",
        "café", "ﬁne", "Ｆｕｌｌ", "нещо", "Български", "Ελληνικά", "עברית", "العربية", "हिन्दी", "ကိုယ်", "កាន់តែ", "ไทย",
        "我想在", "apple", "工作", "日本語", "한국어", "🦙", "😶‍🌫️", "👨‍👩‍👧", "✅", "🚀", "❤️", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "𐐀𐐨", "3.14159",
        "1234567", "٣٤٥", "½", "Ⅻ", "$", "+=", "<=>", "^~|`", "...", "!!", "??", "—", "«»", "()", "[]{}", "<s>", "</s>",
        "<|endoftext|>", "<|im_start|>", "<unk>", "<0x0A>", "▁", "Ġ", "\u00A0", "\u3000", "\u2028", "\u200B", "\u0301",
        "e\u0301", "\uFEFF", "\u0085", "\u001F", "\u007F", "ǅ", "ẞ", "ΐ", "Ω", "K", "'", "\"", "\\", "/*", "*/", "->",
        "def f(x):", "    return", "\tx", "#include", "µs", "ß", "İ", "ı",
    ];

    private static readonly string[] Spaces = [" ", "  ", "   ", "\t", "\n", "\n\n", "\r\n", " \n ", "\t\n", "    ", "\u3000", ""];

    public static string Next(Random rng)
    {
        var sb = new StringBuilder();
        int parts = rng.Next(1, 12);
        for (int i = 0; i < parts; i++)
        {
            switch (rng.Next(8))
            {
                case 0:
                case 1:
                case 2:
                    sb.Append(Words[rng.Next(Words.Length)]);
                    break;
                case 3:
                    sb.Append(Spaces[rng.Next(Spaces.Length)]);
                    break;
                case 4:
                    for (int d = rng.Next(1, 9); d > 0; d--) sb.Append((char)('0' + rng.Next(10)));
                    break;
                case 5:
                    // any BMP codepoint that is not a surrogate, assigned or not
                    for (int k = rng.Next(1, 4); k > 0; k--)
                    {
                        int cp;
                        do cp = rng.Next(0x20, 0x10000); while (cp is >= 0xD800 and <= 0xDFFF);
                        sb.Append((char)cp);
                    }
                    break;
                case 6:
                    // astral: emoji, math letters, CJK extension B, private use plane
                    int[] bases = [0x1F300, 0x1D400, 0x20000, 0x10400, 0xF0000, 0x1F900];
                    sb.Append(char.ConvertFromUtf32(bases[rng.Next(bases.Length)] + rng.Next(0x100)));
                    break;
                default:
                    for (int k = rng.Next(1, 8); k > 0; k--) sb.Append((char)rng.Next(0x21, 0x7F));
                    break;
            }
            if (rng.Next(3) == 0) sb.Append(' ');
        }
        return sb.ToString();
    }
}
