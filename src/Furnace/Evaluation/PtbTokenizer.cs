// Caption tokenization as coco-caption does it (pycocoevalcap/tokenizer/ptbtokenizer.py): every caption goes
// through Stanford CoreNLP 3.4.1's PTBTokenizer with `-preserveLines -lowerCase`, and the tokens of a fixed
// punctuation list are then dropped.
//
// This is an independent re-implementation of the observable behaviour of that Java lexer (PTB3 escaping:
// brackets -> -LRB- etc., LaTeX quotes `` '' ` ', "..." ellipses, "--" dashes, split contractions and
// assimilations, abbreviation/acronym periods, fractions, &amp;, untokenizable characters deleted), written
// from its documented options, the abbreviation classes its lexer defines (lists of words, taken as facts), and
// the 50 vectors in shared/fixtures/metrics/ptbtokenizer_3.4.1_vectors.json.
// Like the JFlex lexer, each step takes the longest match among the rules that apply at the current position
// (lookahead context counts toward the length), and earlier rules win ties.
//
// Known approximation: in coco-caption all captions of a call share one temp file, so an abbreviation such as
// "etc." at the end of a caption sees the next caption's first letter. Here a caption is tokenized alone, as if
// followed by a new line that starts with a capital letter (the usual COCO case, and what end-of-file gives).
using System.Globalization;
using System.Text;

namespace Furnace.Evaluation;

public static class PtbTokenizer
{
    // pycocoevalcap's PUNCTUATIONS. Compared after lowercasing, so "-LRB-" etc. never match (coco-caption's quirk:
    // "-lrb-" and friends survive).
    private static readonly HashSet<string> CocoPunctuation =
    [
        "''", "'", "``", "`", "-LRB-", "-RRB-", "-LCB-", "-RCB-", ".", "?", "!", ",", ":", "-", "--", "...", ";",
    ];

    // Abbreviations that may end a sentence: before whitespace + capital (or at the end) they also yield a ".".
    private static readonly HashSet<string> SentenceFinalAbbreviations =
    [
        "Jan", "Feb", "Mar", "Apr", "Jun", "Jul", "Aug", "Sep", "Sept", "Oct", "Nov", "Dec",
        "Mon", "Tue", "Tues", "Wed", "Thu", "Thurs", "Fri",
        "Inc", "Co", "Cos", "Corp", "Pty", "Ptys", "Pt", "Pts", "Ltd", "Plc", "Bancorp", "Dept", "Bhd", "Assn", "Univ", "Intl", "Sys",
        "Jr", "Sr", "Bros", "Ed.D", "Ph.D", "Blvd", "Rd", "Esq",
        "etc", "al", "seq",
    ];

    // Abbreviations that keep their period wherever they occur (titles, a few others; single letters and
    // dotted acronyms are handled by shape).
    private static readonly HashSet<string> Abbreviations =
    [
        "Mr", "Mrs", "Ms", "Miss", "Dr", "Drs", "Prof", "Profs", "Sen", "Sens", "Rep", "Reps", "Atty", "Attys",
        "Lt", "Col", "Gen", "Messrs", "Gov", "Govs", "Adm", "Rev", "Maj", "Sgt", "Cpl", "Pvt", "Mt", "Capt",
        "St", "Ste", "Ave", "Pres", "Lieut", "Hon", "Brig", "Cmdr", "Comdr", "Pfc", "Spc", "Supt", "Supts", "Det",
        "M", "MM", "Mme", "Mmes", "Mlle", "Mlles",
        "vs", "Alex", "Wm", "Jos", "Cie", "a.k.a", "cf", "TREAS", "Invt", "Elec", "Natl", "Mfg", "Mtg",
    ];

    // Whole words split in two (splitAssimilations): word -> length of the first part.
    private static readonly Dictionary<string, int> Assimilations = new(StringComparer.OrdinalIgnoreCase)
    {
        ["cannot"] = 3, ["gonna"] = 3, ["gotta"] = 3, ["lemme"] = 3, ["gimme"] = 3, ["wanna"] = 3, ["dunno"] = 3,
    };

    // Words with an apostrophe that stay whole ("rock 'n' roll", "ol'", "'em", "c'mon", ...), ASCII apostrophe.
    private static readonly string[] ApostropheWords =
    [
        "'n'", "'n", "ol'", "'em", "'til", "'till", "'cause", "c'mon", "cont'd", "e'er", "ne'er", "o'er", "s'mores",
        "ev'ry", "li'l", "nat'l", "somethin'", "dunkin'",
    ];

    /// <summary>The PTBTokenizer 3.4.1 tokens of one line (lowercased), before coco-caption drops punctuation.</summary>
    public static IReadOnlyList<string> TokenizeRaw(string text)
    {
        var tokens = new List<string>();
        new Lexer(text, tokens).Run();
        for (int i = 0; i < tokens.Count; i++) tokens[i] = tokens[i].ToLowerInvariant();
        return tokens;
    }

    /// <summary>coco-caption's tokenized caption: PTB tokens minus its punctuation list, joined by single spaces.</summary>
    public static string Tokenize(string caption)
    {
        // coco-caption writes one caption per line, replacing newlines inside a caption by spaces.
        var tokens = TokenizeRaw(caption.Replace('\n', ' '));
        var sb = new StringBuilder(caption.Length);
        foreach (var t in tokens)
        {
            if (CocoPunctuation.Contains(t)) continue;
            if (sb.Length > 0) sb.Append(' ');
            sb.Append(t);
        }
        return sb.ToString();
    }

    private static bool IsApostrophe(char c) => c is '\'' or '\u2019' or '\u0092';

    private static bool IsLetter(char c) =>
        char.IsLetter(c) || c == '\u00AD' || CharUnicodeInfo.GetUnicodeCategory(c) is
            UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark;

    private static bool IsAlnum(char c) => IsLetter(c) || char.IsDigit(c);

    private static bool IsAsciiLetter(char c) => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z';

    private static bool IsAsciiAlnumOrDollar(char c) => IsAsciiLetter(c) || c is >= '0' and <= '9' or '$';

    private static bool IsHyphenJoin(char c) => c is '-' or '_' or '\u058A' or '\u2010' or '\u2011' or '/';

    private static bool IsSpace(char c) => char.IsWhiteSpace(c) || c == '\u00A0';

    // One match candidate: `compare` is the length used to pick the longest (it includes lookahead context),
    // `consume` how many characters are taken, `tokens` what is emitted.
    private readonly record struct Match(int Compare, int Consume, string[] Tokens);

    private sealed class Lexer(string s, List<string> output)
    {
        private int _pos;

        public void Run()
        {
            while (_pos < s.Length)
            {
                char c = s[_pos];
                if (IsSpace(c)) { _pos++; continue; }
                // Rules in the lexer's priority order: the longest match wins, the earlier rule on a tie.
                Match best = default;
                Consider(ref best, MatchUrl());
                Consider(ref best, MatchEmail());
                Consider(ref best, MatchTwitter());
                Consider(ref best, MatchAbbreviation());
                Consider(ref best, MatchAssimilation());
                Consider(ref best, MatchApostropheWord());
                Consider(ref best, MatchContraction());
                Consider(ref best, MatchWordLike());
                Consider(ref best, MatchPunctuation());
                if (best.Consume == 0)
                {
                    // Untokenizable (control/format characters, astral-plane symbols such as emoji): deleted.
                    _pos++;
                    continue;
                }
                output.AddRange(best.Tokens);
                _pos += best.Consume;
            }
        }

        private static void Consider(ref Match best, Match? candidate)
        {
            if (candidate is { } m && m.Compare > best.Compare) best = m;
        }

        private char At(int i) => i < s.Length ? s[i] : '\0';

        private bool StartsWith(int i, string word, bool ignoreCase = false) =>
            i + word.Length <= s.Length &&
            string.Compare(s, i, word, 0, word.Length, ignoreCase ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal) == 0;

        private static Match Single(int length, string token) => new(length, length, [token]);

        private Match? MatchUrl()
        {
            int i = _pos;
            if (!(StartsWith(i, "http://", true) || StartsWith(i, "https://", true) || StartsWith(i, "ftp://", true) ||
                  StartsWith(i, "www.", true)))
                return null;
            int j = i;
            while (j < s.Length && !IsSpace(s[j]) && s[j] is not ('"' or '<' or '>' or '|' or '(' or ')')) j++;
            while (j > i && s[j - 1] is '.' or '!' or '?' or ',' or '-' or '{' or '}') j--;
            return j - i > 4 ? Single(j - i, s[i..j]) : null;
        }

        private Match? MatchEmail()
        {
            int i = _pos;
            if (!char.IsAsciiLetterOrDigit(s[i])) return null;
            int j = i, at = -1;
            while (j < s.Length && !IsSpace(s[j]) && s[j] is not ('"' or '<' or '>' or '|' or '(' or ')' or '{' or '}' or '[' or ']'))
            {
                if (s[j] == '@' && at < 0) at = j;
                j++;
            }
            while (j > at + 1 && s[j - 1] is '.' or ',' or ';' or ':' or '!' or '?' or '\'') j--;
            return at > i && j > at + 1 ? Single(j - i, s[i..j]) : null;
        }

        private Match? MatchTwitter()
        {
            int i = _pos;
            char c = s[i];
            if (c == '@' && (IsAsciiLetter(At(i + 1)) || At(i + 1) == '_'))
            {
                int j = i + 1;
                while (j < s.Length && (char.IsAsciiLetterOrDigit(s[j]) || s[j] == '_')) j++;
                return Single(j - i, s[i..j]);
            }
            if (c == '#' && IsLetter(At(i + 1)))
            {
                int j = i + 1;
                while (j < s.Length && (IsAlnum(s[j]) || s[j] == '_')) j++;
                return Single(j - i, s[i..j]);
            }
            return null;
        }

        // "Mr." "U.S." "a.m." keep their period; "etc." also yields a sentence-final "." before a capital/end.
        private Match? MatchAbbreviation()
        {
            int i = _pos;
            if (!IsAsciiLetter(s[i])) return null;
            int j = i;
            bool acronym = true; // shape [A-Za-z](\.[A-Za-z])+
            while (true)
            {
                int k = j;
                while (k < s.Length && IsAsciiLetter(s[k])) k++;
                if (k - j != 1) acronym = false;
                if (At(k) == '.' && IsAsciiLetter(At(k + 1)))
                {
                    j = k + 1;
                    continue;
                }
                j = k;
                break;
            }
            if (At(j) != '.') return null;
            // s[i..j] is the longest run of ASCII letters joined by single dots ("Mr", "U.S", "Ph.D"), and a period
            // follows it.
            string word = s[i..j];
            bool single = j - i == 1;
            bool dottedAcronym = acronym && word.Contains('.');
            if (SentenceFinalAbbreviations.Contains(word))
            {
                if (EndsSentenceAfter(j + 1))
                    return new Match(j + 1 - i + 2, j + 1 - i, [word + ".", "."]);
                return new Match(j + 1 - i + 2, j + 1 - i, [word + "."]);
            }
            if (single || dottedAcronym || Abbreviations.Contains(word))
                return Single(j + 1 - i, word + ".");
            return null;
        }

        // Whitespace then whitespace or a capital; the end of the caption behaves like "\n" + a capital.
        private bool EndsSentenceAfter(int k)
        {
            if (k >= s.Length) return true;
            if (!IsSpace(s[k])) return false;
            if (k + 1 >= s.Length) return true;
            return IsSpace(s[k + 1]) || char.IsUpper(s[k + 1]);
        }

        private int AlnumRunEnd(int i)
        {
            while (i < s.Length && IsAlnum(s[i])) i++;
            return i;
        }

        private Match? MatchAssimilation()
        {
            int i = _pos;
            if (!IsLetter(s[i])) return null;
            int j = AlnumRunEnd(i);
            if (j - i < 5 || j - i > 6) return null;
            string word = s[i..j];
            if (!Assimilations.TryGetValue(word, out int split)) return null;
            return new Match(j - i, j - i, [word[..split], word[split..]]);
        }

        private Match? MatchApostropheWord()
        {
            int i = _pos;
            char c = s[i];
            if (!IsApostrophe(c) && !IsLetter(c)) return null;
            int best = 0;
            foreach (var w in ApostropheWords)
                if (w.Length > best && StartsWithApostropheWord(i, w)) best = w.Length;
            if (IsApostrophe(c) && char.IsAsciiDigit(At(i + 1)) && At(i + 1) != '0' && At(i + 1) != '1' &&
                At(i + 2) == '0' && At(i + 3) == 's' && best < 4)
                best = 4; // '90s
            if (IsLetter(c))
            {
                // O'Hare, D'Angelo: one capital (not I or Y) or "n", apostrophe, two or more letters.
                if ((c is >= 'A' and <= 'H' or >= 'J' and <= 'X' or 'Z' or 'n') && IsApostrophe(At(i + 1)) &&
                    IsLetter(At(i + 2)) && IsLetter(At(i + 3)))
                {
                    int j = i + 2;
                    while (j < s.Length && IsLetter(s[j])) j++;
                    best = Math.Max(best, j - i);
                }
                // Hawai'i: two or more letters ending in a vowel, apostrophe, a vowel or capital, letters.
                int end = i;
                while (end < s.Length && IsLetter(s[end])) end++;
                if (end - i >= 2 && "aeiouyAEIOUY".Contains(s[end - 1]) && IsApostrophe(At(end)) &&
                    ("aeiou".Contains(At(end + 1)) && At(end + 1) != '\0' || At(end + 1) is >= 'A' and <= 'Z'))
                {
                    int j = end + 2;
                    while (j < s.Length && IsLetter(s[j])) j++;
                    best = Math.Max(best, j - i);
                }
            }
            if (best == 0) return null;
            return Single(best, NormalizeApostrophes(s.Substring(i, best)));
        }

        private bool StartsWithApostropheWord(int i, string w)
        {
            if (i + w.Length > s.Length) return false;
            for (int k = 0; k < w.Length; k++)
            {
                char a = s[i + k], b = w[k];
                if (b == '\'') { if (!IsApostrophe(a)) return false; }
                else if (char.ToLowerInvariant(a) != b) return false;
            }
            // Must not run on into more letters ("'emerald" is a quote and a word).
            return !IsAlnum(At(i + w.Length)) || w[^1] == '\'';
        }

        private static string NormalizeApostrophes(string t) => t.Replace('\u2019', '\'').Replace('\u0092', '\'');

        // "isn't" -> "is" + "n't"; "it's" -> "it" + "'s"; also the suffix tokens themselves.
        private Match? MatchContraction()
        {
            int i = _pos;
            char c = s[i];
            if (IsAsciiLetter(c))
            {
                int j = i;
                while (j < s.Length && IsAsciiLetter(s[j])) j++;
                // word ending in "n" + "'t": split before the n ("ca|n't", "do|n't").
                if (j - i >= 2 && s[j - 1] is 'n' or 'N' && s[j - 2] is not ('n' or 'N') && IsApostrophe(At(j)) && At(j + 1) is 't' or 'T' && !IsAsciiLetter(At(j + 2)))
                    return new Match(j + 2 - i, j - 1 - i, [s[i..(j - 1)]]);
                return null;
            }
            if (c is 'n' or 'N') return null;
            if (!IsApostrophe(c)) return null;
            // Suffix tokens: 's 'm 'd 're 've 'll (any case), not followed by a letter.
            foreach (var suffix in (ReadOnlySpan<string>)["re", "ve", "ll", "s", "m", "d"])
            {
                if (StartsWith(i + 1, suffix, ignoreCase: true) && !IsLetter(At(i + 1 + suffix.Length)))
                    return Single(1 + suffix.Length, "'" + s.Substring(i + 1, suffix.Length));
            }
            return null;
        }

        private Match? MatchWordLike()
        {
            int i = _pos;
            char c = s[i];
            int best = 0;
            string? text = null;

            // n't as a token on its own (after a split contraction).
            if (c is 'n' or 'N' && IsApostrophe(At(i + 1)) && At(i + 2) is 't' or 'T' && !IsLetter(At(i + 3)))
                return Single(3, s[i].ToString() + "'" + s[i + 2]);

            if (IsAlnum(c))
            {
                // THING: alnum runs joined by hyphens (and slashes), each optionally led by [dDoOlL]' ("o'clock").
                int j = i;
                while (true)
                {
                    int seg = j;
                    if (s[seg] is 'd' or 'D' or 'o' or 'O' or 'l' or 'L' && IsApostrophe(At(seg + 1)) && IsAlnum(At(seg + 2)))
                        seg += 2;
                    int end = AlnumRunEnd(seg);
                    if (end == seg) break;
                    j = end;
                    if (IsHyphenJoin(At(j)) && IsAlnum(At(j + 1))) { j++; continue; }
                    break;
                }
                if (j - i > best) { best = j - i; text = NormalizeApostrophes(s[i..j]); }
            }
            if (IsLetter(c))
            {
                // WORD: letters/digits, with internal . ! ? when a letter follows ("bat.The").
                int j = i + 1;
                while (true)
                {
                    while (j < s.Length && IsAlnum(s[j])) j++;
                    if (At(j) is '.' or '!' or '?' && IsLetter(At(j + 1))) { j++; continue; }
                    break;
                }
                if (j - i > best) { best = j - i; text = s[i..j]; }
                // A word keeps a period that is followed by , ; or : ("dog.," -> "dog." ",").
                if (At(j) == '.' && At(j + 1) is ',' or ';' or ':' && j + 2 - i > best)
                {
                    best = j + 2 - i;
                    text = s[i..(j + 1)];
                    return new Match(best, j + 1 - i, [text.Replace("\u00AD", "")]);
                }

                // THINGA: capitals joined by & or + ("AT&T", "R&D"; "&amp;" counts as &).
                int k = i, parts = 0, end = i;
                while (true)
                {
                    int st = k;
                    while (k < s.Length && s[k] is >= 'A' and <= 'Z') k++;
                    if (k == st) break;
                    parts++;
                    end = k;
                    int amp = StartsWith(k, "&amp;") ? 5 : At(k) is '&' or '+' ? 1 : 0;
                    if (amp > 0 && At(k + amp) is >= 'A' and <= 'Z') { k += amp; continue; }
                    break;
                }
                if (parts >= 2 && end - i > best) { best = end - i; text = s[i..end].Replace("&amp;", "&"); }
            }
            if (char.IsAsciiDigit(c) || (c is '.' or '-' or '+' && char.IsAsciiDigit(At(i + 1))) ||
                (c is '-' or '+' && At(i + 1) == '.' && char.IsAsciiDigit(At(i + 2))))
            {
                // NUM: [-+]? digits with . : , groups ("1,000", "3.4.5", "12:30", ".5").
                int j = i;
                if (s[j] is '-' or '+') j++;
                while (j < s.Length && char.IsAsciiDigit(s[j])) j++;
                while (At(j) is '.' or ',' or ':' && char.IsAsciiDigit(At(j + 1)))
                {
                    j++;
                    while (j < s.Length && char.IsAsciiDigit(s[j])) j++;
                }
                if (j - i > best) { best = j - i; text = s[i..j]; }
            }
            if (best == 0) return null;
            return Single(best, text!.Replace("\u00AD", ""));
        }

        private Match? MatchPunctuation()
        {
            int i = _pos;
            char c = s[i];
            char n = At(i + 1);
            switch (c)
            {
                case '"':
                    return Single(1, IsAsciiAlnumOrDollar(n) ? "``" : "''");
                case '`':
                    return n == '`' ? Single(2, "``") : Single(1, "`");
                case '\'':
                case '\u0092':
                case '\u2019':
                    if (c == '\'' && n == '\'') return Single(2, "''");
                    if (c == '\u2019') return Single(1, "'");
                    return Single(1, IsAsciiAlnumOrDollar(n) ? "`" : "'");
                case '\u2018': case '\u201A': case '\u201B': case '\u2039': case '\u0091': case '\u0082': return Single(1, "`");
                case '\u201C': case '\u201E': case '\u201F': case '\u00AB': case '\u0093': case '\u0084': return Single(1, "``");
                case '\u201D': case '\u00BB': case '\u0094': return Single(1, "''");
                case '\u203A': return Single(1, "'");
                case '*': case '#': case '@': case '_':
                {
                    // Runs of the same mark stay one token ("**", "##").
                    int j = i;
                    while (At(j) == c) j++;
                    return Single(j - i, s[i..j]);
                }
                case '(': return Single(1, "-LRB-");
                case ')': return Single(1, "-RRB-");
                case '[': return Single(1, "-LSB-");
                case ']': return Single(1, "-RSB-");
                case '{': return Single(1, "-LCB-");
                case '}': return Single(1, "-RCB-");
                case '\u2026': case '\u0085': return Single(1, "...");
                case '\u2013': case '\u2014': case '\u2015': return Single(1, "--");
                case '\u00BD': return Single(1, "1/2");
                case '\u00BC': return Single(1, "1/4");
                case '\u00BE': return Single(1, "3/4");
                case '\u2153': return Single(1, "1/3");
                case '\u2154': return Single(1, "2/3");
                case '\u00A2': return Single(1, "cents");
                case '\u00A3': return Single(1, "#");
                case '\u00A4': case '\u00A5': case '\u20A0': case '\u20AC': return Single(1, "$");
                case '&':
                    if (StartsWith(i, "&amp;")) return Single(5, "&");
                    if (StartsWith(i, "&quot;")) return Single(6, IsAsciiAlnumOrDollar(At(i + 6)) ? "``" : "''");
                    return Single(1, "&");
                case '.':
                    return MatchDots();
                case '-':
                {
                    int j = i;
                    while (At(j) == '-') j++;
                    return Single(j - i, j - i == 1 ? "-" : "--");
                }
                case '?':
                case '!':
                {
                    int j = i;
                    while (At(j) is '?' or '!') j++;
                    return Single(j - i, s[i..j]);
                }
            }
            var smiley = MatchSmiley();
            if (smiley is not null) return smiley;
            if (char.IsSurrogate(c)) return null;
            var cat = CharUnicodeInfo.GetUnicodeCategory(c);
            if (cat is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.PrivateUse or
                UnicodeCategory.OtherNotAssigned or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator)
                return null;
            return Single(1, c.ToString());
        }

        // "..." and longer runs, and the spaced ". . ." form, become "..."; a lone "." stays.
        private Match? MatchDots()
        {
            int i = _pos;
            int j = i;
            while (At(j) == '.') j++;
            if (j - i >= 3) return Single(j - i, "...");
            // ". . ." (3 to 5 dots, single spaces between).
            int k = i, dots = 0;
            while (At(k) == '.')
            {
                dots++;
                k++;
                if (dots == 5) break;
                if (At(k) is ' ' or '\u00A0' && At(k + 1) == '.') k++;
                else break;
            }
            if (dots >= 3) return Single(k - i, "...");
            return Single(1, ".");
        }

        // Emoticons such as ";)" ":D" ":-(" stay one token, with brackets escaped (";-RRB-").
        private Match? MatchSmiley()
        {
            int i = _pos;
            int j = i;
            if (At(j) is '<' or '>') j++;
            if (At(j) is not (':' or ';' or '=')) return null;
            j++;
            if (At(j) is '-' or 'o' or '*' or '\'' && At(j + 1) is '(' or ')' or 'D' or 'P' or 'd' or 'p' or 'O' or '\\' or '{' or '@' or '|' or '[' or ']')
                j++;
            if (At(j) is not ('(' or ')' or 'D' or 'P' or 'd' or 'p' or 'O' or '\\' or '{' or '@' or '|' or '[' or ']')) return null;
            j++;
            var sb = new StringBuilder();
            foreach (char ch in s.AsSpan(i, j - i))
            {
                sb.Append(ch switch
                {
                    '(' => "-LRB-", ')' => "-RRB-", '[' => "-LSB-", ']' => "-RSB-", '{' => "-LCB-", '}' => "-RCB-",
                    _ => ch.ToString(),
                });
            }
            return Single(j - i, sb.ToString());
        }
    }
}
