// Trains a GPT-2-style byte-level BPE tokenizer (Sennrich et al. 2016; the HF tokenizers BpeTrainer with a
// ByteLevel pre-tokenizer) and writes it as tokenizer.json + tokenizer_config.json that HfTokenizerLoader reads:
//   text -> GPT-2 split regex (SplitRule.Gpt2Pattern) -> words -> UTF-8 bytes spelled in ByteLevel characters
//   vocabulary = special tokens, the 256 byte characters, then one token per merge, most frequent pair first
// Pair counts are kept incrementally (pair -> count, pair -> words holding it), so each merge only rewrites the words
// that hold the pair. Ties between equally frequent pairs go to the ordinally smallest (left, right) spelling, so
// the result depends only on the texts and the settings.
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Furnace.IO;

namespace Furnace.Formats.Tokenizers;

public sealed class BpeTrainer
{
    public const string Bos = "<s>";
    public const string Eos = "</s>";
    public const string Pad = "<pad>";
    public const string Image = "<image>";

    private static readonly Regex Split = new(SplitRule.Gpt2Pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);

    private readonly Dictionary<string, long> _words = new(StringComparer.Ordinal);

    /// <summary>Target vocabulary size, special tokens and the 256 byte tokens included.</summary>
    public int VocabSize { get; init; } = 3000;

    /// <summary>Pairs seen fewer times than this are never merged (the vocabulary may stay smaller).</summary>
    public int MinFrequency { get; init; } = 2;

    /// <summary>Special tokens, ids 0.. in this order: pad, BOS, EOS, the LLaVA image placeholder.</summary>
    public IReadOnlyList<string> SpecialTokens { get; init; } = [Pad, Bos, Eos, Image];

    /// <summary>Counts the pre-tokenized words of a text (call once per caption, instruction, …).</summary>
    public void Add(string text, long times = 1)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder();
        foreach (Match m in Split.Matches(text))
        {
            sb.Clear();
            foreach (byte b in Encoding.UTF8.GetBytes(m.Value)) sb.Append(ByteLevel.ByteToChar[b]);
            string w = sb.ToString();
            _words[w] = _words.GetValueOrDefault(w) + times;
        }
    }

    /// <summary>Distinct pre-tokenized words counted so far.</summary>
    public int WordCount => _words.Count;

    /// <summary>Learns the merges: (vocabulary in id order, merges in rank order).</summary>
    public (IReadOnlyList<string> Vocab, IReadOnlyList<(string Left, string Right)> Merges) Train()
    {
        int baseCount = SpecialTokens.Count + 256;
        if (VocabSize < baseCount) throw new FurnaceException($"BPE vocabulary size {VocabSize} is below the {baseCount} special and byte tokens");
        var vocab = new List<string>(SpecialTokens);
        var id = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < vocab.Count; i++) id[vocab[i]] = i;
        for (int b = 0; b < 256; b++)
        {
            string s = ByteLevel.ByteToChar[b].ToString();
            if (!id.TryAdd(s, vocab.Count)) throw new FurnaceException($"special token '{s}' collides with a byte token");
            vocab.Add(s);
        }

        // words in a fixed order (ordinal), each as symbol ids
        var entries = _words.OrderBy(kv => kv.Key, StringComparer.Ordinal).ToArray();
        var words = new List<int>[entries.Length];
        var freq = new long[entries.Length];
        var pairs = new Dictionary<(int, int), long>();
        var where = new Dictionary<(int, int), HashSet<int>>();
        for (int w = 0; w < entries.Length; w++)
        {
            freq[w] = entries[w].Value;
            words[w] = entries[w].Key.Select(ch => id[ch.ToString()]).ToList();
            AddPairs(w, +1);
        }

        var merges = new List<(string, string)>();
        while (vocab.Count < VocabSize)
        {
            (int, int) best = default;
            long bestCount = 0;
            string? bestL = null, bestR = null;
            foreach (var (p, n) in pairs)
            {
                if (n < bestCount || n <= 0) continue;
                string l = vocab[p.Item1], r = vocab[p.Item2];
                if (n == bestCount)
                {
                    int c = string.CompareOrdinal(l, bestL);
                    if (c > 0 || (c == 0 && string.CompareOrdinal(r, bestR) >= 0)) continue;
                }
                (best, bestCount, bestL, bestR) = (p, n, l, r);
            }
            if (bestCount < Math.Max(1, MinFrequency)) break;
            string merged = bestL + bestR;
            int newId;
            if (!id.TryGetValue(merged, out newId))
            {
                newId = vocab.Count;
                vocab.Add(merged);
                id[merged] = newId;
            }
            merges.Add((bestL!, bestR!));
            foreach (int w in where[best].ToArray())
            {
                AddPairs(w, -1);
                var s = words[w];
                for (int i = 0; i < s.Count - 1; i++)
                {
                    if (s[i] == best.Item1 && s[i + 1] == best.Item2)
                    {
                        s[i] = newId;
                        s.RemoveAt(i + 1);
                    }
                }
                AddPairs(w, +1);
            }
            pairs.Remove(best);
            where.Remove(best);
        }
        return (vocab, merges);

        void AddPairs(int w, int sign)
        {
            var s = words[w];
            for (int i = 0; i < s.Count - 1; i++)
            {
                var p = (s[i], s[i + 1]);
                long n = pairs.GetValueOrDefault(p) + sign * freq[w];
                if (n <= 0)
                {
                    pairs.Remove(p);
                    where.Remove(p);
                    continue;
                }
                pairs[p] = n;
                if (sign > 0)
                {
                    if (!where.TryGetValue(p, out var set)) where[p] = set = [];
                    set.Add(w);
                }
            }
        }
    }

    /// <summary>
    /// Trains and writes DIR/tokenizer.json (BPE model, ByteLevel pre-tokenizer/decoder, the special tokens as added
    /// tokens) and DIR/tokenizer_config.json (BOS/EOS/pad, add_bos_token, no chat template: LLaVA's "USER: …
    /// ASSISTANT:" format). Returns the vocabulary size.
    /// </summary>
    public int Write(string dir, int modelMaxLength)
    {
        var (vocab, merges) = Train();
        Directory.CreateDirectory(dir);
        AtomicFile.Write(Path.Combine(dir, "tokenizer.json"), s =>
        {
            using var j = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            j.WriteStartObject();
            j.WriteString("version", "1.0");
            j.WriteNull("truncation");
            j.WriteNull("padding");
            j.WriteStartArray("added_tokens");
            for (int i = 0; i < SpecialTokens.Count; i++)
            {
                j.WriteStartObject();
                j.WriteNumber("id", i);
                j.WriteString("content", SpecialTokens[i]);
                j.WriteBoolean("single_word", false);
                j.WriteBoolean("lstrip", false);
                j.WriteBoolean("rstrip", false);
                j.WriteBoolean("normalized", false);
                j.WriteBoolean("special", true);
                j.WriteEndObject();
            }
            j.WriteEndArray();
            j.WriteNull("normalizer");
            j.WriteStartObject("pre_tokenizer");
            j.WriteString("type", "ByteLevel");
            j.WriteBoolean("add_prefix_space", false);
            j.WriteBoolean("trim_offsets", true);
            j.WriteBoolean("use_regex", true);
            j.WriteEndObject();
            j.WriteNull("post_processor");
            j.WriteStartObject("decoder");
            j.WriteString("type", "ByteLevel");
            j.WriteBoolean("add_prefix_space", true);
            j.WriteBoolean("trim_offsets", true);
            j.WriteBoolean("use_regex", true);
            j.WriteEndObject();
            j.WriteStartObject("model");
            j.WriteString("type", "BPE");
            j.WriteNull("dropout");
            j.WriteNull("unk_token");
            j.WriteNull("continuing_subword_prefix");
            j.WriteNull("end_of_word_suffix");
            j.WriteBoolean("fuse_unk", false);
            j.WriteBoolean("byte_fallback", false);
            j.WriteBoolean("ignore_merges", false);
            j.WriteStartObject("vocab");
            for (int i = 0; i < vocab.Count; i++) j.WriteNumber(vocab[i], i);
            j.WriteEndObject();
            j.WriteStartArray("merges");
            foreach (var (l, r) in merges)
            {
                j.WriteStartArray();
                j.WriteStringValue(l);
                j.WriteStringValue(r);
                j.WriteEndArray();
            }
            j.WriteEndArray();
            j.WriteEndObject();
            j.WriteEndObject();
        });
        AtomicFile.Write(Path.Combine(dir, "tokenizer_config.json"), s =>
        {
            using var j = new Utf8JsonWriter(s, new JsonWriterOptions { Indented = true });
            j.WriteStartObject();
            j.WriteString("tokenizer_class", "PreTrainedTokenizerFast");
            j.WriteString("bos_token", Bos);
            j.WriteString("eos_token", Eos);
            j.WriteString("pad_token", Pad);
            j.WriteBoolean("add_bos_token", true);
            j.WriteBoolean("add_eos_token", false);
            j.WriteBoolean("clean_up_tokenization_spaces", false);
            j.WriteNumber("model_max_length", modelMaxLength);
            j.WriteEndObject();
        });
        return vocab.Count;
    }
}
