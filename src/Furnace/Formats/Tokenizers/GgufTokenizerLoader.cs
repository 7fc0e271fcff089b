// Builds a Tokenizer from GGUF metadata (tokenizer.ggml.*), with llama.cpp's defaults per vocabulary type and
// pre-tokenizer (llama_vocab::impl::load in src/llama-vocab.cpp).
using Furnace.Formats.Gguf;

namespace Furnace.Formats.Tokenizers;

internal static class GgufTokenizerLoader
{
    public static Tokenizer Load(GgufFile f)
    {
        string path = f.Path;
        string model = f.GetString("tokenizer.ggml.model") ?? throw new FurnaceFormatException(path, "no tokenizer.ggml.model: the file carries no vocabulary");
        string? pre = f.GetString("tokenizer.ggml.pre");
        var tokens = f.GetArray<string>("tokenizer.ggml.tokens") ?? throw new FurnaceFormatException(path, "tokenizer.ggml.tokens is missing or not a string array");
        int n = tokens.Length;
        if (n == 0) throw new FurnaceFormatException(path, "tokenizer.ggml.tokens is empty");

        float[]? scores = f.GetArray<float>("tokenizer.ggml.scores");
        if (scores == null && f.GetArray<int>("tokenizer.ggml.scores") is { } iscores) scores = Array.ConvertAll(iscores, v => (float)v);
        if (scores != null && scores.Length < n) throw new FurnaceFormatException(path, $"tokenizer.ggml.scores has {scores.Length} entries for {n} tokens");

        int[]? types = f.GetArray<int>("tokenizer.ggml.token_type");
        if (types != null && types.Length < n) throw new FurnaceFormatException(path, $"tokenizer.ggml.token_type has {types.Length} entries for {n} tokens");

        var tokensCopy = new string[n];
        var attrs = new TokenAttr[n];
        var ids = new SpanStringMap(n);
        for (int i = 0; i < n; i++)
        {
            string t = tokens[i];
            // llama.cpp renames empty tokens so that they stay addressable and unique
            if (t.Length == 0) t = $"[EMPTY_{i}]";
            tokensCopy[i] = t;
            if (!ids.TryAdd(t, i)) throw new FurnaceFormatException(path, $"duplicate token '{t}' in the vocabulary (ids {ids.Get(t)} and {i})");
            attrs[i] = types == null ? TokenAttr.Normal : TokenAttrs.FromGgufType(types[i]);
        }

        TokenizerParts parts;
        switch (model)
        {
            case "llama":
                parts = new TokenizerParts { Kind = VocabKind.Spm, Tokens = tokensCopy, Attrs = attrs, Ids = ids, Scores = scores ?? new float[n] };
                parts.Bos = 1;
                parts.Eos = 2;
                parts.Unk = 0;
                parts.AddBos = true;
                parts.SpacePrefix = SpacePrefix.EveryFragment;
                parts.EscapeWhitespace = true;
                parts.PreName = pre ?? "default";
                break;
            case "gpt2":
            {
                var preset = LlamaCppPresets.Find(pre)
                    ?? throw new FurnaceFormatException(path, $"unknown pre-tokenizer tokenizer.ggml.pre = '{pre}' (Furnace knows the ones llama.cpp's llm_tokenizer_bpe does; see docs/tokenizers.md)");
                parts = new TokenizerParts { Kind = VocabKind.Bpe, Tokens = tokensCopy, Attrs = attrs, Ids = ids, Scores = scores };
                parts.Bos = 11;
                parts.Eos = 11;
                parts.ByteLevel = true;
                parts.CleanSpaces = preset.CleanSpaces;
                parts.AddBos = preset.AddBos;
                parts.Pre = new PreTokenizer(preset.Patterns.Select(p => new SplitRule(p)));
                parts.PreName = string.IsNullOrEmpty(pre) ? "default" : pre;
                var merges = f.GetArray<string>("tokenizer.ggml.merges") ?? throw new FurnaceFormatException(path, "a gpt2 vocabulary needs tokenizer.ggml.merges");
                parts.Bpe = new BpeModel(tokensCopy, ids, merges.Select(SplitMerge), byteEncoded: true, preset.IgnoreMerges, BpeFallback.AsciiChars, unk: -1);
                break;
            }
            case "bert":
            {
                parts = new TokenizerParts { Kind = VocabKind.Wpm, Tokens = tokensCopy, Attrs = attrs, Ids = ids, Scores = scores };
                parts.Bos = 101;
                parts.Unk = 100;
                parts.Sep = 102;
                parts.Pad = 0;
                parts.AddBos = true;
                parts.AddSep = true;
                parts.CleanSpaces = true;
                parts.PreName = pre ?? "default";
                break;
            }
            default:
                throw new FurnaceFormatException(path, $"tokenizer.ggml.model '{model}' is not supported (llama, gpt2 and bert are)");
        }
        parts.Source = path;
        parts.ChatTemplate = f.GetString("tokenizer.chat_template");

        if (GetBool(f, "tokenizer.ggml.add_space_prefix") is bool asp && model == "llama")
            parts.SpacePrefix = asp ? SpacePrefix.EveryFragment : SpacePrefix.Never;
        // llama.cpp drops one leading space of the first decoded token exactly when it adds one on encode
        parts.StripFirstSpace = parts.SpacePrefix != SpacePrefix.Never;

        parts.Bos = SpecialId(f, "tokenizer.ggml.bos_token_id", parts.Bos, n);
        parts.Eos = SpecialId(f, "tokenizer.ggml.eos_token_id", parts.Eos, n);
        parts.Eot = SpecialId(f, "tokenizer.ggml.eot_token_id", null, n);
        parts.Eom = SpecialId(f, "tokenizer.ggml.eom_token_id", null, n);
        parts.Unk = SpecialId(f, "tokenizer.ggml.unknown_token_id", parts.Unk, n);
        parts.Sep = SpecialId(f, "tokenizer.ggml.seperator_token_id", parts.Sep, n);
        parts.Pad = SpecialId(f, "tokenizer.ggml.padding_token_id", parts.Pad, n);
        if (GetBool(f, "tokenizer.ggml.add_bos_token") is bool ab) parts.AddBos = ab;
        if (GetBool(f, "tokenizer.ggml.add_eos_token") is bool ae) parts.AddEos = ae;
        if (GetBool(f, "tokenizer.ggml.add_sep_token") is bool asep) parts.AddSep = asep;

        if (model == "bert")
        {
            bool lower = GetBool(f, "tokenizer.ggml.normalizer.lowercase") ?? true;
            bool strip = GetBool(f, "tokenizer.ggml.normalizer.strip_accents") ?? lower;
            parts.Wpm = new WpmModel(ids, tokensCopy, parts.Unk ?? -1, lower, strip);
        }
        else if (model == "llama")
        {
            parts.Spm = new SpmModel(ids, parts.Scores!, parts.Unk ?? -1);
        }

        // Phi-3's special tokens swallow the whitespace after them (llama.cpp sets RSTRIP by model name)
        string name = (f.GetString("general.name") ?? "").ToLowerInvariant();
        if (name.Contains("phi-3", StringComparison.Ordinal) || name.Contains("phi3", StringComparison.Ordinal))
        {
            for (int i = 0; i < n; i++)
            {
                if ((attrs[i] & (TokenAttr.Control | TokenAttr.UserDefined | TokenAttr.Unknown)) != 0) attrs[i] |= TokenAttr.RStrip;
            }
            foreach (var t in new[] { "</s>" })
            {
                if (ids.Get(t) is >= 0 and var id) attrs[id] |= TokenAttr.RStrip;
            }
            foreach (var t in new[] { "<unk>", "<s>", "<|endoftext|>" })
            {
                if (ids.Get(t) is >= 0 and var id) attrs[id] &= ~TokenAttr.RStrip;
            }
        }
        return new Tokenizer(parts);
    }

    // "a b" -> ("a", "b"), splitting at the first space after the first character (a merge side may itself be " ").
    private static (string, string) SplitMerge(string m)
    {
        int pos = m.Length > 1 ? m.IndexOf(' ', 1) : -1;
        return pos < 0 ? ("", "") : (m[..pos], m[(pos + 1)..]);
    }

    private static bool? GetBool(GgufFile f, string key) => f.Metadata.TryGetValue(key, out var v) && v.Value is bool b ? b : null;

    private static int? SpecialId(GgufFile f, string key, int? fallback, int n)
    {
        if (fallback is int d && (d < 0 || d >= n)) fallback = null;
        long? v = f.GetInt(key);
        if (v == null) return fallback;
        // llama.cpp ignores an out-of-range id and keeps the default
        return v >= 0 && v < n ? (int)v : fallback;
    }
}
