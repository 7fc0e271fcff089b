// Text <-> token ids for the vocabularies of real checkpoints: SentencePiece BPE (Llama-2, DeepSeek-R1's Llama
// distills, Phi-3), byte-level BPE (GPT-2, Llama-3, Qwen2, DeepSeek-LLM/-Coder, Falcon, StarCoder...) and BERT
// WordPiece, loaded from GGUF (tokenizer.ggml.*) or a Hugging Face tokenizer.json. Behaviour mirrors llama.cpp's
// llama_vocab (src/llama-vocab.cpp): special tokens are cut out of the text first (tokenizer_st_partition), each
// remaining fragment goes through the model, and decoding concatenates token pieces (token_to_piece, detokenize).
using System.Collections.Frozen;
using System.Text;
using Furnace.Formats.Gguf;

namespace Furnace.Formats.Tokenizers;

public sealed class Tokenizer
{
    private readonly TokenizerParts _p;
    private readonly byte[][] _pieces;
    private readonly int[] _specialCache;
    private readonly FrozenSet<int> _eog;

    internal Tokenizer(TokenizerParts parts)
    {
        _p = parts;
        int n = parts.Tokens.Length;
        if (parts.Attrs.Length != n) throw new ArgumentException("attrs and tokens differ in length");
        // first: it may promote EOG-looking tokens to control, which changes how they parse and decode
        _eog = DetectEndOfGeneration().ToFrozenSet();
        _pieces = new byte[n][];
        for (int i = 0; i < n; i++) _pieces[i] = ComputePiece(i);

        // longest first, so a special token that contains another wins (llama.cpp sorts by text length)
        _specialCache = [.. Enumerable.Range(0, n)
            .Where(i => (parts.Attrs[i] & (TokenAttr.Control | TokenAttr.UserDefined | TokenAttr.Unknown)) != 0 && parts.Tokens[i].Length > 0)
            .OrderByDescending(i => Encoding.UTF8.GetByteCount(parts.Tokens[i]))
            .ThenBy(i => i)];
    }

    public static Tokenizer FromGguf(GgufFile file) => GgufTokenizerLoader.Load(file);

    public static Tokenizer FromHuggingFace(string tokenizerJsonPath) => HfTokenizerLoader.Load(tokenizerJsonPath);

    /// <summary>The tokenizer of a model path: a Hugging Face directory (tokenizer.json), a tokenizer.json file, or a GGUF file.</summary>
    public static Tokenizer Open(string path)
    {
        if (Directory.Exists(path))
        {
            string tj = System.IO.Path.Combine(path, "tokenizer.json");
            if (!File.Exists(tj)) throw new FurnaceException($"{path}: no tokenizer.json");
            return FromHuggingFace(tj);
        }
        if (!File.Exists(path)) throw new FurnaceException($"{path}: no such file or directory");
        if (path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)) return FromHuggingFace(path);
        using var f = GgufFile.Open(path);
        if (f.GetArray<string>("tokenizer.ggml.tokens") == null) throw new FurnaceFormatException(path, "no vocabulary (tokenizer.ggml.tokens) in this GGUF file");
        return FromGguf(f);
    }

    /// <summary>
    /// The vocabulary as GGUF tokenizer.* metadata that llama.cpp loads (see GgufVocabWriter); padded with unused
    /// "[PAD{id}]" tokens up to <paramref name="vocabSize"/> when the model's embedding has more rows.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, GgufValue>> ToGgufMetadata(int? vocabSize = null) => GgufVocabWriter.Metadata(_p, vocabSize);

    public int VocabSize => _p.Tokens.Length;

    public int? BosId => _p.Bos;

    public int? EosId => _p.Eos;

    public int? EotId => _p.Eot;

    public int? UnknownId => _p.Unk;

    public int? PadId => _p.Pad;

    /// <summary>Whether the model wants BOS in front of a prompt (what Encode's addSpecial adds).</summary>
    public bool AddBos => _p.AddBos;

    public bool AddEos => _p.AddEos;

    /// <summary>Tokens that end a generated answer: EOS, EOT/EOM and the end-of-turn tokens llama.cpp recognises by text.</summary>
    public IReadOnlySet<int> EndOfGenerationIds => _eog;

    /// <summary>The Jinja chat template stored with the vocabulary, if any (see ChatTemplate.Detect).</summary>
    public string? ChatTemplateSource => _p.ChatTemplate;

    /// <summary>"spm", "bpe" or "wpm".</summary>
    public string ModelType => _p.Kind switch { VocabKind.Spm => "spm", VocabKind.Bpe => "bpe", _ => "wpm" };

    /// <summary>The pre-tokenizer name (GGUF tokenizer.ggml.pre), or a description for tokenizer.json.</summary>
    public string? PreTokenizerName => _p.PreName;

    // the first decoded token drops one leading space (the SentencePiece dummy prefix)
    internal bool StripsFirstSpace => _p.StripFirstSpace;

    /// <summary>Control, unknown and user-defined tokens: the ones matched as whole strings when parsing specials.</summary>
    public bool IsSpecial(int id) => (Attr(id) & (TokenAttr.Control | TokenAttr.UserDefined | TokenAttr.Unknown)) != 0;

    /// <summary>Control and unknown tokens: rendered only when asked to (Decode without skipSpecial).</summary>
    public bool IsControl(int id) => (Attr(id) & (TokenAttr.Control | TokenAttr.Unknown)) != 0;

    public bool IsEndOfGeneration(int id) => _eog.Contains(id);

    /// <summary>The id of a vocabulary entry spelled exactly <paramref name="tokenText"/>, or null.</summary>
    public int? TokenId(string tokenText)
    {
        int id = _p.Ids.Get(tokenText);
        return id >= 0 ? id : null;
    }

    /// <summary>The vocabulary string of a token as stored (byte-level alphabet, ▁ for spaces, &lt;0x0A&gt;...).</summary>
    public string TokenText(int id) => _p.Tokens[Check(id)];

    /// <summary>The bytes a token stands for; control tokens give their own text.</summary>
    public byte[] TokenBytes(int id) => (byte[])_pieces[Check(id)].Clone();

    internal ReadOnlySpan<byte> PieceSpan(int id) => _pieces[Check(id)];

    private TokenAttr Attr(int id) => _p.Attrs[Check(id)];

    private int Check(int id)
    {
        if ((uint)id >= (uint)_p.Tokens.Length)
            throw new FurnaceException($"token id {id} is outside the vocabulary (size {_p.Tokens.Length})");
        return id;
    }

    public int[] Encode(string text, bool addSpecial = true, bool parseSpecial = false)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 4);
        var fragments = Partition(text, parseSpecial);

        if (addSpecial && _p.AddBos) output.Add(RequireSpecial(_p.Bos, "BOS"));
        bool prevSpecial = true;
        foreach (var f in fragments)
        {
            if (f.Token >= 0)
            {
                output.Add(f.Token);
                prevSpecial = true;
                continue;
            }
            string s = text.Substring(f.Start, f.Length);
            switch (_p.Kind)
            {
                case VocabKind.Spm:
                    if (_p.SpacePrefix != SpacePrefix.Never && prevSpecial) s = " " + s;
                    if (_p.EscapeWhitespace) s = s.Replace(' ', '\u2581');
                    _p.Spm!.Encode(s, output);
                    break;
                case VocabKind.Bpe:
                    EncodeBpe(s, f.Start == 0, output);
                    break;
                case VocabKind.Wpm:
                    _p.Wpm!.Encode(s, output);
                    break;
            }
            prevSpecial = false;
        }
        if (addSpecial && _p.AddEos) output.Add(RequireSpecial(_p.Eos, "EOS"));
        if (addSpecial && _p.AddSep) output.Add(RequireSpecial(_p.Sep, "SEP"));
        return [.. output];
    }

    private static int RequireSpecial(int? id, string what) =>
        id ?? throw new FurnaceException($"the tokenizer wants a {what} token added, but defines none");

    private void EncodeBpe(string s, bool startsText, List<int> output)
    {
        if (_p.Normalizer != null) s = _p.Normalizer(s);
        if (_p.EscapeWhitespace) s = s.Replace(' ', '\u2581');
        bool prefix = _p.SpacePrefix == SpacePrefix.EveryFragment || (_p.SpacePrefix == SpacePrefix.FirstFragment && startsText);
        if (prefix && s.Length > 0)
        {
            char space = _p.EscapeWhitespace ? '\u2581' : ' ';
            if (!_p.PrefixUnlessPresent || s[0] != space) s = space + s;
        }
        var cps = UnicodeFlags.Codepoints(s);
        var sb = new StringBuilder();
        foreach (var piece in _p.Pre.Split(cps))
        {
            sb.Clear();
            var span = cps.AsSpan(piece.Start, piece.Length);
            if (_p.ByteLevel) ByteLevel.Encode(span, sb);
            else foreach (int cp in span) sb.Append(char.ConvertFromUtf32(cp));
            _p.Bpe!.EncodeWord(sb.ToString(), output);
        }
    }

    private readonly record struct Fragment(int Token, int Start, int Length);

    // tokenizer_st_partition: cut every occurrence of a special token's text out of the raw fragments. Control and
    // unknown tokens are only recognised when parseSpecial; user-defined (added) tokens always are, as in HF.
    private List<Fragment> Partition(string text, bool parseSpecial)
    {
        var frags = new List<Fragment>();
        if (text.Length == 0) return frags;
        frags.Add(new Fragment(-1, 0, text.Length));
        var next = new List<Fragment>();
        foreach (int id in _specialCache)
        {
            var attr = _p.Attrs[id];
            if (!parseSpecial && (attr & (TokenAttr.Control | TokenAttr.Unknown)) != 0) continue;
            string tok = _p.Tokens[id];
            bool any = false;
            foreach (var f in frags)
            {
                if (f.Token < 0 && text.AsSpan(f.Start, f.Length).Contains(tok, StringComparison.Ordinal))
                {
                    any = true;
                    break;
                }
            }
            if (!any) continue;
            next.Clear();
            foreach (var f in frags)
            {
                if (f.Token >= 0)
                {
                    next.Add(f);
                    continue;
                }
                int start = f.Start, end = f.Start + f.Length;
                while (start < end)
                {
                    int hit = text.AsSpan(start, end - start).IndexOf(tok, StringComparison.Ordinal);
                    if (hit < 0) break;
                    hit += start;
                    int leftEnd = hit;
                    if ((attr & TokenAttr.LStrip) != 0)
                    {
                        while (leftEnd > start && IsAsciiSpace(text[leftEnd - 1])) leftEnd--;
                    }
                    if (leftEnd > start) next.Add(new Fragment(-1, start, leftEnd - start));
                    next.Add(new Fragment(id, hit, tok.Length));
                    start = hit + tok.Length;
                    if ((attr & TokenAttr.RStrip) != 0)
                    {
                        while (start < end && IsAsciiSpace(text[start])) start++;
                    }
                }
                if (start < end) next.Add(new Fragment(-1, start, end - start));
            }
            (frags, next) = (next, frags);
        }
        return frags;
    }

    private static bool IsAsciiSpace(char c) => c is ' ' or '\t' or '\n' or '\v' or '\f' or '\r';

    /// <summary>
    /// Text of a token sequence, as llama.cpp's llama_detokenize(remove_special: skipSpecial, unparse_special:
    /// !skipSpecial): control tokens appear as their text unless skipped; incomplete UTF-8 becomes U+FFFD.
    /// </summary>
    public string Decode(ReadOnlySpan<int> ids, bool skipSpecial = false) => Encoding.UTF8.GetString(DecodeBytes(ids, skipSpecial));

    public byte[] DecodeBytes(ReadOnlySpan<int> ids, bool skipSpecial = false)
    {
        foreach (int id in ids) Check(id);
        bool removeSpace = _p.StripFirstSpace;
        if (skipSpecial && _p.AddBos && ids.Length > 0 && ids[0] == _p.Bos)
        {
            removeSpace = false;
            ids = ids[1..];
        }
        if (skipSpecial && _p.AddEos && ids.Length > 0 && ids[^1] == _p.Eos) ids = ids[..^1];

        var buf = new List<byte>(ids.Length * 4);
        foreach (int id in ids)
        {
            if (skipSpecial && IsControl(id))
            {
                removeSpace = false;
                continue;
            }
            ReadOnlySpan<byte> piece = _pieces[id];
            if (removeSpace && piece.Length > 0 && piece[0] == (byte)' ') piece = piece[1..];
            removeSpace = false;
            foreach (byte b in piece) buf.Add(b);
        }
        var bytes = buf.ToArray();
        return _p.CleanSpaces ? CleanSpaces(bytes) : bytes;
    }

    // llama_vocab::impl::detokenize's clean_spaces passes (HF clean_up_tokenization): " ?" " !" " ." " ," lose the
    // space, " ' " loses both, " 's" " 'm" " 're" " 've" lose the space.
    private static byte[] CleanSpaces(byte[] t)
    {
        int total = t.Length;
        if (total == 0) return t;
        int w = 1;
        for (int i = 1; i < total; i++)
        {
            byte x = t[i];
            if (t[i - 1] == ' ' && x is (byte)'?' or (byte)'!' or (byte)'.' or (byte)',') w--;
            t[w++] = x;
        }
        total = w;
        w = 1;
        for (int i = 1; i < total; i++)
        {
            byte x = t[i];
            if (x == '\'' && i + 1 < total && t[i - 1] == ' ' && t[i + 1] == ' ')
            {
                w--;
                t[++i] = 0;
            }
            t[w++] = x;
        }
        // the pass above leaves a 0 byte where it dropped the space after the apostrophe, exactly like llama.cpp
        total = w;
        w = 1;
        for (int i = 1; i < total; i++)
        {
            byte x = t[i];
            if (t[i - 1] == ' ' && x == '\'' && i + 1 < total)
            {
                byte x1 = t[i + 1];
                if (x1 is (byte)'s' or (byte)'m') w--;
                else if (i + 2 < total)
                {
                    byte x2 = t[i + 2];
                    if ((x1 == 'r' && x2 == 'e') || (x1 == 'v' && x2 == 'e')) w--;
                }
            }
            t[w++] = x;
        }
        return t[..w];
    }

    private byte[] ComputePiece(int id)
    {
        var attr = _p.Attrs[id];
        string text = _p.Tokens[id];
        if ((attr & (TokenAttr.Control | TokenAttr.Unknown | TokenAttr.UserDefined)) != 0) return Encoding.UTF8.GetBytes(text);
        if ((attr & TokenAttr.Normal) != 0)
        {
            if (_p.Kind == VocabKind.Bpe && _p.ByteLevel)
            {
                var bytes = new List<byte>(text.Length);
                foreach (char c in text)
                {
                    int b = ByteLevel.CharToByte(c);
                    if (b >= 0) bytes.Add((byte)b);
                    // not in the byte alphabet (a hand-added token): keep its own UTF-8 rather than llama.cpp's
                    // "[UNK_BYTE_0x..]" marker
                    else bytes.AddRange(Encoding.UTF8.GetBytes(c.ToString()));
                }
                return [.. bytes];
            }
            return Encoding.UTF8.GetBytes(text.Replace('\u2581', ' '));
        }
        if ((attr & TokenAttr.Byte) != 0 && text.Length == 6 && text.StartsWith("<0x", StringComparison.Ordinal)
            && byte.TryParse(text.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out byte value))
        {
            return [value];
        }
        return [];
    }

    // llama.cpp decides end-of-generation by token text (llama_vocab::impl::load, "special_eog_ids").
    private static readonly string[] EogTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>",
        "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ];

    private static readonly string[] EotTexts =
    [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
        "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ];

    // FIM pad/repo/file-separator tokens end generation too (each family: the first one present)
    private static readonly string[][] FimEogTexts =
    [
        ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"],
        ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"],
        ["<|file_sep|>"],
    ];

    private HashSet<int> DetectEndOfGeneration()
    {
        var eog = new HashSet<int>();
        if (_p.Eot == null)
        {
            // llama.cpp takes the first match in hash-map order, which is arbitrary; take the lowest id
            foreach (var t in EotTexts)
            {
                int id = _p.Ids.Get(t);
                if (id >= 0 && (_p.Eot == null || id < _p.Eot)) _p.Eot = id;
            }
        }
        foreach (var family in FimEogTexts)
        {
            int best = -1;
            foreach (var t in family)
            {
                int id = _p.Ids.Get(t);
                if (id >= 0 && (best < 0 || id < best)) best = id;
            }
            if (best >= 0) eog.Add(best);
        }
        foreach (var t in EogTexts)
        {
            int id = _p.Ids.Get(t);
            if (id >= 0) eog.Add(id);
        }
        foreach (int? id in new[] { _p.Eos, _p.Eot, _p.Eom })
        {
            if (id is int v) eog.Add(v);
        }
        foreach (int id in _p.ExtraEog) eog.Add(id);
        // gpt-oss / solar-open: with <|return|>+<|call|> (or <|calls|>+<|flush|>), <|end|> only ends a message
        int end = _p.Ids.Get("<|end|>");
        bool Has(string t) => _p.Ids.Get(t) is var i && i >= 0 && eog.Contains(i);
        if (end >= 0 && eog.Contains(end) && ((Has("<|return|>") && (Has("<|call|>") || Has("<|calls|>"))) || ((Has("<|call|>") || Has("<|calls|>")) && Has("<|flush|>"))))
        {
            eog.Remove(end);
            _p.Attrs[end] = TokenAttr.UserDefined;
        }
        // gemma4 / paddleocr: </s> is not an end of generation where <|tool_response> exists
        int s = _p.Ids.Get("</s>");
        if (s >= 0 && Has("<|tool_response>") && eog.Remove(s)) _p.Attrs[s] = TokenAttr.Normal;
        foreach (int id in eog)
        {
            // llama.cpp promotes EOG-looking tokens to control, so plain text never produces them
            if ((_p.Attrs[id] & TokenAttr.Control) == 0 && IsTextDetected(_p.Tokens[id])) _p.Attrs[id] |= TokenAttr.Control;
        }
        foreach (var t in FimTexts)
        {
            if (_p.Ids.Get(t) is var id && id >= 0) _p.Attrs[id] |= TokenAttr.Control;
        }
        if (_p.Eot is int eot && IsTextDetected(_p.Tokens[eot])) _p.Attrs[eot] |= TokenAttr.Control;
        return eog;
    }

    // FIM prefix/suffix/middle tokens are not EOG, but llama.cpp promotes them to control the same way
    private static readonly string[] FimTexts =
    [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>",
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>",
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>",
    ];

    private static bool IsTextDetected(string t) => EogTexts.Contains(t) || EotTexts.Contains(t) || FimEogTexts.Any(f => f.Contains(t));
}
