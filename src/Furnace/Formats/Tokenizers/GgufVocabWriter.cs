// A loaded vocabulary written back as GGUF tokenizer.* metadata that llama.cpp loads, the way llama.cpp's
// convert_hf_to_gguf.py does it: byte-level BPE becomes tokenizer.ggml.model "gpt2" with merges
// (_set_vocab_gpt2), SentencePiece-style vocabularies become "llama" with scores (_set_vocab_sentencepiece,
// _set_vocab_llama_hf), token types are llama_token_type, special ids and add_bos/add_eos come from the source.
// Two deliberate differences: the pre-tokenizer name is found by comparing the declared split regexes with the ones
// llama.cpp knows (LlamaCppPresets) instead of hashing sample output, and a Hugging Face BPE-with-byte-fallback
// vocabulary gets scores from its merge ranks (llama.cpp's LlamaHfVocab writes -1000 for every token, which loses
// the merge order) so that llama.cpp's SentencePiece merging reproduces the BPE result.
using Furnace.Formats.Gguf;

namespace Furnace.Formats.Tokenizers;

internal static class GgufVocabWriter
{
    // llama_token_type
    private const int TypeUndefined = 0, TypeNormal = 1, TypeUnknown = 2, TypeControl = 3, TypeUserDefined = 4, TypeUnused = 5, TypeByte = 6;

    // Names tried, in this order, when detecting tokenizer.ggml.pre: the model families' own names first, aliases
    // with the same regexes later (ties are broken by clean_up_tokenization_spaces and ignore_merges).
    private static readonly string[] PreCandidates =
    [
        "gpt-2", "llama-bpe", "smaug-bpe", "qwen2", "stablelm2", "deepseek-llm", "deepseek-coder", "deepseek-v3",
        "starcoder", "command-r", "falcon", "default", "poro-chat", "bloom", "viking", "tekken", "gpt-4o",
        "chameleon", "seed-coder", "superbpe",
    ];

    public static IReadOnlyList<KeyValuePair<string, GgufValue>> Metadata(TokenizerParts p, int? vocabSize)
    {
        int n = p.Tokens.Length;
        int total = vocabSize ?? n;
        if (total < n) throw new FurnaceException($"{p.Source}: the tokenizer has {n} tokens, more than the model's vocabulary of {total}");
        var meta = new List<KeyValuePair<string, GgufValue>>();
        void Add(string key, GgufValue v) => meta.Add(new(key, v));

        var tokens = new string[total];
        var types = new int[total];
        for (int i = 0; i < total; i++)
        {
            if (i >= n || p.Attrs[i] == TokenAttr.Undefined)
            {
                // ids the tokenizer does not define (a model's embedding rounded up): llama.cpp's converter fills
                // them with unused "[PAD{id}]" tokens
                tokens[i] = $"[PAD{i}]";
                types[i] = TypeUnused;
                continue;
            }
            tokens[i] = p.Tokens[i];
            types[i] = TokenType(p.Attrs[i]);
        }

        switch (p.Kind)
        {
            case VocabKind.Spm:
            {
                Add("tokenizer.ggml.model", GgufValue.Of("llama"));
                Add("tokenizer.ggml.pre", GgufValue.Of("default"));
                var scores = new float[total];
                if (p.Scores != null) Array.Copy(p.Scores, scores, Math.Min(n, p.Scores.Length));
                Add("tokenizer.ggml.tokens", GgufValue.Of(tokens));
                Add("tokenizer.ggml.scores", GgufValue.Of(scores));
                Add("tokenizer.ggml.token_type", GgufValue.Of(types));
                if (p.SpacePrefix == SpacePrefix.Never) Add("tokenizer.ggml.add_space_prefix", GgufValue.Of(false));
                break;
            }
            case VocabKind.Bpe when p.ByteLevel:
            {
                Add("tokenizer.ggml.model", GgufValue.Of("gpt2"));
                Add("tokenizer.ggml.pre", GgufValue.Of(PreName(p)));
                Add("tokenizer.ggml.tokens", GgufValue.Of(tokens));
                Add("tokenizer.ggml.token_type", GgufValue.Of(types));
                Add("tokenizer.ggml.merges", GgufValue.Of(p.Bpe!.Merges.Select(m => m.Left + " " + m.Right).ToArray()));
                break;
            }
            case VocabKind.Bpe when p.Bpe!.Fallback == BpeFallback.ByteTokens && Probe(p, "a b").Contains("a\u2581b", StringComparison.Ordinal):
            {
                // Llama-2/Mistral tokenizer.json: SentencePiece BPE re-expressed as merges; llama.cpp wants scores
                Add("tokenizer.ggml.model", GgufValue.Of("llama"));
                Add("tokenizer.ggml.pre", GgufValue.Of("default"));
                Add("tokenizer.ggml.tokens", GgufValue.Of(tokens));
                Add("tokenizer.ggml.scores", GgufValue.Of(ScoresFromMerges(p, total)));
                Add("tokenizer.ggml.token_type", GgufValue.Of(types));
                // the dummy prefix comes from a Metaspace pre-tokenizer or (legacy Llama) a Prepend("▁") normalizer
                if (!Probe(p, "a").StartsWith('\u2581')) Add("tokenizer.ggml.add_space_prefix", GgufValue.Of(false));
                break;
            }
            case VocabKind.Bpe:
                throw new FurnaceException($"{p.Source}: a BPE vocabulary that is neither byte-level nor SentencePiece-style with byte fallback has no llama.cpp equivalent");
            default:
                throw new FurnaceException($"{p.Source}: writing a WordPiece vocabulary to GGUF is not supported");
        }

        void Id(string key, int? id)
        {
            if (id is int v && v >= 0 && v < total) Add(key, GgufValue.Of((uint)v));
        }
        Id("tokenizer.ggml.bos_token_id", p.Bos);
        Id("tokenizer.ggml.eos_token_id", p.Eos);
        Id("tokenizer.ggml.eot_token_id", p.Eot);
        Id("tokenizer.ggml.unknown_token_id", p.Unk);
        Id("tokenizer.ggml.padding_token_id", p.Pad);
        Add("tokenizer.ggml.add_bos_token", GgufValue.Of(p.AddBos));
        Add("tokenizer.ggml.add_eos_token", GgufValue.Of(p.AddEos));
        if (p.ChatTemplate != null) Add("tokenizer.chat_template", GgufValue.Of(p.ChatTemplate));
        return meta;
    }

    // what the HF normalizer and Metaspace settings make of a text before the model sees it
    private static string Probe(TokenizerParts p, string s)
    {
        if (p.Normalizer != null) s = p.Normalizer(s);
        if (p.EscapeWhitespace) s = s.Replace(' ', '\u2581');
        if (p.SpacePrefix != SpacePrefix.Never && (!p.PrefixUnlessPresent || s[0] != '\u2581')) s = '\u2581' + s;
        return s;
    }

    private static int TokenType(TokenAttr a) =>
        (a & TokenAttr.Byte) != 0 ? TypeByte
        : (a & TokenAttr.Unknown) != 0 ? TypeUnknown
        : (a & TokenAttr.Control) != 0 ? TypeControl
        : (a & TokenAttr.UserDefined) != 0 ? TypeUserDefined
        : (a & TokenAttr.Unused) != 0 ? TypeUnused
        : (a & TokenAttr.Normal) != 0 ? TypeNormal
        : TypeUndefined;

    // A token made by merge rank r scores -r, so SentencePiece's "merge the highest-scoring pair first" follows the
    // merge order; tokens no merge produces (single characters, bytes, specials) score 0 or, when longer than one
    // character, below every merge result.
    private static float[] ScoresFromMerges(TokenizerParts p, int total)
    {
        var rank = new int[p.Tokens.Length];
        Array.Fill(rank, -1);
        int r = 0;
        foreach (var (l, rt) in p.Bpe!.Merges)
        {
            int id = p.Ids.Get(l + rt);
            if (id >= 0 && rank[id] < 0) rank[id] = r;
            r++;
        }
        var scores = new float[total];
        for (int i = 0; i < p.Tokens.Length; i++)
        {
            if (rank[i] >= 0) scores[i] = -rank[i];
            else if ((p.Attrs[i] & TokenAttr.Normal) != 0 && UnicodeFlags.Codepoints(p.Tokens[i]).Length > 1) scores[i] = -(r + i);
        }
        return scores;
    }

    // tokenizer.ggml.pre for a byte-level BPE vocabulary: the llama.cpp preset whose regexes are the ones declared.
    private static string PreName(TokenizerParts p)
    {
        var rules = p.Pre.Rules;
        if (rules.Any(x => x.Behavior != SplitBehavior.Isolated || x.Invert))
            throw new FurnaceException($"{p.Source}: pre-tokenizer {p.PreName} uses a split behaviour llama.cpp has no equivalent for");
        string[] declared = [.. rules.Select(x => Canonical(x.Pattern))];
        bool Matches(BpePreset preset) => preset.Patterns.Select(Canonical).SequenceEqual(declared, StringComparer.Ordinal);

        // a vocabulary read from GGUF keeps its name
        if (LlamaCppPresets.Find(p.PreName) is { } own && Matches(own)) return p.PreName ?? "default";
        // among presets with the same regexes, ignore_merges decides first, then clean_up_tokenization_spaces
        string? best = null;
        int bestScore = -1;
        foreach (string name in PreCandidates)
        {
            var preset = LlamaCppPresets.Find(name)!;
            if (!Matches(preset)) continue;
            int score = (preset.IgnoreMerges == p.Bpe!.IgnoreMerges ? 2 : 0) + (preset.CleanSpaces == p.CleanSpaces ? 1 : 0);
            if (score > bestScore) (best, bestScore) = (name, score);
        }
        return best ?? throw new FurnaceException(
            $"{p.Source}: the pre-tokenizer ({p.PreName}) matches none of the ones llama.cpp knows (see docs/tokenizers.md)");
    }

    // HF writes the contractions as (?i:'s|...); llama.cpp spells the case-insensitivity out for std::regex
    private static string Canonical(string pattern) => pattern
        .Replace("(?i:'s|'t|'re|'ve|'m|'ll|'d)", "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])", StringComparison.Ordinal);
}
