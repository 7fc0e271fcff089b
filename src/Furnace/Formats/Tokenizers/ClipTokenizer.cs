// The CLIP BPE tokenizer (OpenAI CLIP simple_tokenizer.py; transformers CLIPTokenizerFast, whose tokenizer.json
// pipeline is: normalizer NFC + Replace(\s+ -> " ") + Lowercase; pre-tokenizer Split on the regex below (matches
// kept, whitespace removed) + ByteLevel spelling; model BPE with end_of_word_suffix "</w>"; post-processor
// <|startoftext|> $A <|endoftext|>). The generic Tokenizer does not do end-of-word suffixes, hence this class.
// Each regex piece is spelled in GPT-2's byte-level characters, its last symbol gets "</w>", and the lowest-ranked
// adjacent pair is merged until no pair has a rank (every occurrence of the pair, left to right, as bpe() does).
// Differences from the OpenAI original: no ftfy and no HTML unescaping (the fast tokenizer does neither), and NFC is
// assumed already satisfied (Furnace runs without ICU).
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Furnace.Formats.Tokenizers;

public sealed partial class ClipTokenizer
{
    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";
    private const string EndOfWord = "</w>";

    [GeneratedRegex(@"<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex Pieces();

    [GeneratedRegex(@"\s+", RegexOptions.CultureInvariant)]
    private static partial Regex Whitespace();

    private readonly Dictionary<string, int> _vocab;
    private readonly string[] _tokens;
    private readonly Dictionary<(string, string), int> _ranks;
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    public ClipTokenizer(IReadOnlyDictionary<string, int> vocab, IEnumerable<(string Left, string Right)> merges, int maxLength = 77)
    {
        if (vocab.Count == 0) throw new ArgumentException("empty vocabulary");
        if (maxLength < 2) throw new ArgumentException($"max length {maxLength} leaves no room for the start and end tokens");
        _vocab = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        _tokens = new string[_vocab.Values.Max() + 1];
        foreach (var (t, id) in _vocab)
        {
            if (id < 0) throw new ArgumentException($"token '{t}' has a negative id {id}");
            _tokens[id] = t;
        }
        _ranks = new Dictionary<(string, string), int>();
        foreach (var m in merges) _ranks.TryAdd(m, _ranks.Count);
        BosId = _vocab.TryGetValue(StartOfText, out int bos) ? bos : throw new ArgumentException($"the vocabulary has no {StartOfText}");
        EosId = _vocab.TryGetValue(EndOfText, out int eos) ? eos : throw new ArgumentException($"the vocabulary has no {EndOfText}");
        MaxLength = maxLength;
    }

    public int BosId { get; }

    public int EosId { get; }

    /// <summary>Context length including the start and end tokens (model_max_length, 77 for CLIP).</summary>
    public int MaxLength { get; }

    public int VocabSize => _tokens.Length;

    /// <summary>
    /// Loads a Hugging Face CLIP tokenizer: a tokenizer.json file, or a directory holding tokenizer.json or the slow
    /// tokenizer's vocab.json + merges.txt. model_max_length comes from tokenizer_config.json beside it (else 77).
    /// </summary>
    public static ClipTokenizer FromHuggingFace(string path)
    {
        string dir = Directory.Exists(path) ? path : Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".";
        string json = Directory.Exists(path) ? Path.Combine(path, "tokenizer.json") : path;
        int maxLength = ReadMaxLength(Path.Combine(dir, "tokenizer_config.json"));
        if (File.Exists(json)) return FromTokenizerJson(json, maxLength);
        string vocabPath = Path.Combine(dir, "vocab.json"), mergesPath = Path.Combine(dir, "merges.txt");
        if (!File.Exists(vocabPath) || !File.Exists(mergesPath))
            throw new FurnaceException($"{path}: neither tokenizer.json nor vocab.json + merges.txt is there");
        var vocab = ParseJson(vocabPath, root =>
            root.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32(), StringComparer.Ordinal));
        var merges = new List<(string, string)>();
        foreach (string line in File.ReadLines(mergesPath))
        {
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Length == 0) continue;
            int sp = line.IndexOf(' ', 1);
            if (sp < 0) throw new FurnaceFormatException(mergesPath, $"merge line '{line}' is not two symbols");
            merges.Add((line[..sp], line[(sp + 1)..]));
        }
        return Create(vocabPath, vocab, merges, maxLength);
    }

    private static ClipTokenizer FromTokenizerJson(string path, int maxLength)
    {
        var (vocab, merges) = ParseJson(path, root =>
        {
            if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
                throw new FurnaceFormatException(path, "no \"model\"");
            string? suffix = model.TryGetProperty("end_of_word_suffix", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            if (suffix != EndOfWord) throw new FurnaceFormatException(path, $"not a CLIP tokenizer (BPE end_of_word_suffix is '{suffix}', expected '{EndOfWord}')");
            var v = model.GetProperty("vocab").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32(), StringComparer.Ordinal);
            if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            {
                foreach (var t in added.EnumerateArray()) v[t.GetProperty("content").GetString() ?? ""] = t.GetProperty("id").GetInt32();
            }
            var m = new List<(string, string)>();
            foreach (var e in model.GetProperty("merges").EnumerateArray())
            {
                if (e.ValueKind == JsonValueKind.String)
                {
                    string line = e.GetString()!;
                    int sp = line.IndexOf(' ', 1);
                    if (sp > 0) m.Add((line[..sp], line[(sp + 1)..]));
                }
                else if (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 2)
                {
                    m.Add((e[0].GetString() ?? "", e[1].GetString() ?? ""));
                }
            }
            return (v, m);
        });
        return Create(path, vocab, merges, maxLength);
    }

    private static ClipTokenizer Create(string path, Dictionary<string, int> vocab, List<(string, string)> merges, int maxLength)
    {
        try
        {
            return new ClipTokenizer(vocab, merges, maxLength);
        }
        catch (ArgumentException e)
        {
            throw new FurnaceFormatException(path, e.Message);
        }
    }

    private static int ReadMaxLength(string configPath)
    {
        if (!File.Exists(configPath)) return 77;
        return ParseJson(configPath, root =>
            root.TryGetProperty("model_max_length", out var m) && m.ValueKind == JsonValueKind.Number && m.TryGetInt32(out int n) && n is >= 2 and <= 1 << 20 ? n : 77);
    }

    private static T ParseJson<T>(string path, Func<JsonElement, T> read)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true });
            return read(doc.RootElement);
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new FurnaceFormatException(path, $"not a valid CLIP tokenizer file ({e.Message})");
        }
    }

    /// <summary>
    /// Token ids of text: [bos] pieces [eos] when addSpecial, truncated to MaxLength keeping the end token (as
    /// CLIPProcessor with truncation=True). No padding: the text tower does not need it.
    /// </summary>
    public int[] Encode(string text, bool addSpecial = true, bool truncate = true)
    {
        var ids = new List<int>();
        if (addSpecial) ids.Add(BosId);
        string clean = Whitespace().Replace(text, " ").ToLowerInvariant();
        foreach (Match m in Pieces().Matches(clean))
        {
            if (m.Value is StartOfText or EndOfText)
            {
                ids.Add(m.Value == StartOfText ? BosId : EosId);
                continue;
            }
            ids.AddRange(Bpe(m.Value));
        }
        if (addSpecial) ids.Add(EosId);
        if (truncate && ids.Count > MaxLength)
        {
            ids.RemoveRange(MaxLength - (addSpecial ? 1 : 0), ids.Count - MaxLength);
            if (addSpecial) ids[^1] = EosId;
        }
        return [.. ids];
    }

    /// <summary>Text of ids: "</w>" ends a word; the start and end tokens are skipped.</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>();
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            if (id == BosId || id == EosId) continue;
            if ((uint)id >= (uint)_tokens.Length || _tokens[id] == null) throw new FurnaceException($"token id {id} is outside the vocabulary");
            sb.Append(_tokens[id]);
        }
        string s = sb.ToString().Replace(EndOfWord, " ", StringComparison.Ordinal);
        foreach (char c in s)
        {
            int b = c == ' ' ? ' ' : ByteLevel.CharToByte(c);
            if (b >= 0) bytes.Add((byte)b);
        }
        return Encoding.UTF8.GetString(bytes.ToArray()).TrimEnd();
    }

    // one regex piece -> ids (cached per piece, as bpe() caches)
    private int[] Bpe(string piece)
    {
        if (_cache.TryGetValue(piece, out var hit)) return hit;
        var sb = new StringBuilder();
        foreach (byte b in Encoding.UTF8.GetBytes(piece)) sb.Append(ByteLevel.ByteToChar[b]);
        string spelled = sb.ToString();
        var word = new List<string>(spelled.Length);
        for (int i = 0; i < spelled.Length; i++) word.Add(i == spelled.Length - 1 ? spelled[i] + EndOfWord : spelled[i].ToString());
        while (word.Count > 1)
        {
            int best = int.MaxValue;
            (string, string) pair = default;
            for (int i = 0; i + 1 < word.Count; i++)
            {
                if (_ranks.TryGetValue((word[i], word[i + 1]), out int r) && r < best)
                {
                    best = r;
                    pair = (word[i], word[i + 1]);
                }
            }
            if (best == int.MaxValue) break;
            var next = new List<string>(word.Count);
            for (int i = 0; i < word.Count; i++)
            {
                if (i + 1 < word.Count && word[i] == pair.Item1 && word[i + 1] == pair.Item2)
                {
                    next.Add(pair.Item1 + pair.Item2);
                    i++;
                }
                else
                {
                    next.Add(word[i]);
                }
            }
            word = next;
        }
        var ids = new int[word.Count];
        for (int i = 0; i < word.Count; i++)
            ids[i] = _vocab.TryGetValue(word[i], out int id) ? id : EosId; // CLIP's unk_token is <|endoftext|>
        if (_cache.Count < 100_000) _cache[piece] = ids;
        return ids;
    }
}
