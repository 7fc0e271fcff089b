// BERT WordPiece as llama.cpp's llm_tokenizer_wpm_session (src/llama-vocab.cpp): BertNormalizer-style cleanup
// (drop controls, optionally strip accents and lowercase), split on whitespace, punctuation, ASCII symbols and CJK
// ideographs, then greedy longest-match per word. llama.cpp's GGUF vocabularies spell word starts with a ▁ prefix
// and continuations bare (the converter rewrites HF's "##" continuation prefix that way).
using System.Text;

namespace Furnace.Formats.Tokenizers;

internal sealed class WpmModel
{
    private readonly SpanStringMap _ids;
    private readonly int _maxTokenChars;
    private readonly int _unk;

    public WpmModel(SpanStringMap ids, IReadOnlyList<string> vocab, int unk, bool lowercase, bool stripAccents)
    {
        _ids = ids;
        _unk = unk;
        Lowercase = lowercase;
        StripAccents = stripAccents;
        foreach (var t in vocab) _maxTokenChars = Math.Max(_maxTokenChars, t.Length);
    }

    public bool Lowercase { get; }

    public bool StripAccents { get; }

    public void Encode(string text, List<int> output)
    {
        foreach (var word in Words(text))
        {
            string w = "\u2581" + word;
            int before = output.Count;
            for (int i = 0; i < w.Length;)
            {
                int matched = 0;
                for (int j = Math.Min(w.Length, i + _maxTokenChars); j > i; j--)
                {
                    int id = _ids.Get(w.AsSpan(i, j - i));
                    if (id >= 0)
                    {
                        output.Add(id);
                        matched = j - i;
                        break;
                    }
                }
                if (matched == 0)
                {
                    // one unmatched piece makes the whole word unknown
                    output.RemoveRange(before, output.Count - before);
                    break;
                }
                i += matched;
            }
            if (output.Count == before && _unk >= 0) output.Add(_unk);
        }
    }

    private List<string> Words(string text)
    {
        var words = new List<string>();
        var cur = new StringBuilder();
        void Finish()
        {
            if (cur.Length > 0) words.Add(cur.ToString());
            cur.Clear();
        }
        foreach (int cp0 in UnicodeFlags.Codepoints(text))
        {
            int cp = StripAccents ? FirstOfDecomposition(cp0) : cp0;
            var f = UnicodeFlags.Of(cp);
            if ((f & CpFlags.Whitespace) != 0)
            {
                Finish();
                continue;
            }
            if (cp == 0 || cp == 0xFFFD || (f & CpFlags.Control) != 0) continue;
            if (StripAccents && (f & CpFlags.Mark) != 0) continue;
            if (Lowercase) cp = Rune.ToLowerInvariant(new Rune(cp)).Value;
            if ((f & CpFlags.Punctuation) != 0 || (cp < 0x7F && (f & CpFlags.Symbol) != 0) || IsChineseChar(cp))
            {
                Finish();
                words.Add(char.ConvertFromUtf32(cp));
                continue;
            }
            cur.Append(char.ConvertFromUtf32(cp));
        }
        Finish();
        return words;
    }

    // llama.cpp's unicode_cpts_normalize_nfd keeps only the first codepoint of each decomposition, which drops the
    // accents of precomposed letters (é -> e) in one step.
    private static int FirstOfDecomposition(int cp) => cp < 0xC0 ? cp : NfdFirstTable.FirstOf(cp);

    private static bool IsChineseChar(int cp) =>
        cp is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x2A6DF)
            or (>= 0x2A700 and <= 0x2B73F) or (>= 0x2B740 and <= 0x2B81F) or (>= 0x2B920 and <= 0x2CEAF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F);
}
