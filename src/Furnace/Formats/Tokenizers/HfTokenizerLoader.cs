// Builds a Tokenizer from a Hugging Face tokenizer.json (the `tokenizers` library's serialized pipeline), reading
// tokenizer_config.json and generation_config.json beside it for BOS/EOS, add_bos_token and clean-up settings.
// Supported: model BPE (byte-level, or on raw text with byte_fallback as Llama-2/Mistral), added_tokens, normalizers
// Sequence/Prepend/Replace/Lowercase (NFC/NFKC are taken as already satisfied), pre-tokenizers ByteLevel, Split,
// Digits, Metaspace and Sequence, post-processors TemplateProcessing/ByteLevel/Sequence, decoders as far as they
// decide byte-level decoding and the stripped first space.
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Furnace.Formats.Tokenizers;

internal static class HfTokenizerLoader
{
    public static Tokenizer Load(string path)
    {
        if (!File.Exists(path)) throw new FurnaceException($"{path}: file not found");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new FurnaceFormatException(path, $"not valid JSON: {e.Message}");
        }
        using (doc)
        {
            return Build(path, doc.RootElement, ReadSibling(path, "tokenizer_config.json"), ReadSibling(path, "generation_config.json"));
        }
    }

    private static JsonElement? ReadSibling(string path, string name)
    {
        string p = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path)) ?? ".", name);
        if (!File.Exists(p)) return null;
        try
        {
            using var d = JsonDocument.Parse(File.ReadAllBytes(p), new JsonDocumentOptions { AllowTrailingCommas = true });
            return d.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new FurnaceFormatException(p, $"not valid JSON: {e.Message}");
        }
    }

    private static Tokenizer Build(string path, JsonElement root, JsonElement? config, JsonElement? genConfig)
    {
        var model = Obj(root, "model") ?? throw new FurnaceFormatException(path, "no \"model\"");
        string type = Str(model, "type") ?? (Obj(model, "merges") != null ? "BPE" : "?");
        if (type != "BPE") throw new FurnaceFormatException(path, $"tokenizer model '{type}' is not supported (BPE is; use the GGUF file for WordPiece or Unigram vocabularies)");
        if (!string.IsNullOrEmpty(Str(model, "continuing_subword_prefix")) || !string.IsNullOrEmpty(Str(model, "end_of_word_suffix")))
            throw new FurnaceFormatException(path, "BPE with continuing_subword_prefix / end_of_word_suffix is not supported");

        // vocabulary: model.vocab plus added_tokens, which may extend it
        var byId = new SortedDictionary<int, string>();
        foreach (var kv in (Obj(model, "vocab") ?? throw new FurnaceFormatException(path, "model.vocab is missing")).EnumerateObject())
            byId[kv.Value.GetInt32()] = kv.Name;
        var added = new List<(int Id, string Content, bool Special, bool LStrip, bool RStrip)>();
        if (Obj(root, "added_tokens") is { ValueKind: JsonValueKind.Array } at)
        {
            foreach (var t in at.EnumerateArray())
            {
                int id = t.GetProperty("id").GetInt32();
                string content = t.GetProperty("content").GetString() ?? "";
                added.Add((id, content, Bool(t, "special") ?? false, Bool(t, "lstrip") ?? false, Bool(t, "rstrip") ?? false));
                byId[id] = content;
            }
        }
        if (byId.Count == 0) throw new FurnaceFormatException(path, "empty vocabulary");
        int n = byId.Keys.Max() + 1;
        if (byId.Keys.Min() < 0) throw new FurnaceFormatException(path, "negative token id");
        var tokens = new string[n];
        var attrs = new TokenAttr[n];
        var ids = new SpanStringMap(n);
        bool byteFallback = Bool(model, "byte_fallback") ?? false;
        for (int i = 0; i < n; i++)
        {
            if (!byId.TryGetValue(i, out var t))
            {
                tokens[i] = $"[EMPTY_{i}]";
                attrs[i] = TokenAttr.Undefined;
                continue;
            }
            tokens[i] = t;
            ids.TryAdd(t, i);
            attrs[i] = byteFallback && t.Length == 6 && t.StartsWith("<0x", StringComparison.Ordinal) && t[5] == '>' ? TokenAttr.Byte : TokenAttr.Normal;
        }
        foreach (var a in added)
        {
            attrs[a.Id] = (a.Special ? TokenAttr.Control : TokenAttr.UserDefined) | (a.LStrip ? TokenAttr.LStrip : 0) | (a.RStrip ? TokenAttr.RStrip : 0);
        }

        var parts = new TokenizerParts { Kind = VocabKind.Bpe, Tokens = tokens, Attrs = attrs, Ids = ids, Source = path };
        string? unkText = Str(model, "unk_token");
        parts.Unk = unkText != null && ids.Get(unkText) is >= 0 and var u ? u : null;
        if (parts.Unk is int unk && (attrs[unk] & TokenAttr.Control) != 0) attrs[unk] = TokenAttr.Unknown;

        // normalizer, pre-tokenizer, decoder
        parts.Normalizer = BuildNormalizer(path, Obj(root, "normalizer"));
        var rules = new List<SplitRule>();
        var desc = new List<string>();
        ReadPreTokenizer(path, Obj(root, "pre_tokenizer"), parts, rules, desc);
        parts.Pre = new PreTokenizer(rules);
        parts.PreName = desc.Count == 0 ? "none" : string.Join("+", desc);
        ReadDecoder(Obj(root, "decoder"), parts);

        var merges = new List<(string, string)>();
        if (Obj(model, "merges") is { ValueKind: JsonValueKind.Array } ms)
        {
            foreach (var m in ms.EnumerateArray())
            {
                if (m.ValueKind == JsonValueKind.String)
                {
                    string s = m.GetString()!;
                    int sp = s.IndexOf(' ', 1);
                    if (sp > 0) merges.Add((s[..sp], s[(sp + 1)..]));
                }
                else if (m.ValueKind == JsonValueKind.Array && m.GetArrayLength() == 2)
                {
                    merges.Add((m[0].GetString() ?? "", m[1].GetString() ?? ""));
                }
            }
        }
        var fallback = byteFallback ? BpeFallback.ByteTokens : parts.ByteLevel ? BpeFallback.AsciiChars : BpeFallback.Unknown;
        parts.Bpe = new BpeModel(tokens, ids, merges, parts.ByteLevel, Bool(model, "ignore_merges") ?? false, fallback, parts.Unk ?? -1, Bool(model, "fuse_unk") ?? false);

        // BOS/EOS: tokenizer_config first, then the post-processor's template
        ReadPostProcessor(Obj(root, "post_processor"), parts, ids);
        if (config is { } cfg)
        {
            if (TokenText(cfg, "bos_token") is { } bos && ids.Get(bos) is >= 0 and var b) parts.Bos = b;
            if (TokenText(cfg, "eos_token") is { } eos && ids.Get(eos) is >= 0 and var e) parts.Eos = e;
            if (TokenText(cfg, "pad_token") is { } pad && ids.Get(pad) is >= 0 and var p) parts.Pad = p;
            if (Bool(cfg, "add_bos_token") is bool ab) parts.AddBos = ab;
            if (Bool(cfg, "add_eos_token") is bool ae) parts.AddEos = ae;
            if (Bool(cfg, "clean_up_tokenization_spaces") is bool cs) parts.CleanSpaces = cs;
            if (Str(cfg, "chat_template") is { } ct) parts.ChatTemplate = ct;
        }
        if (genConfig is { } gen && Obj(gen, "eos_token_id") is { } ge)
        {
            if (ge.ValueKind == JsonValueKind.Number) parts.ExtraEog.Add(ge.GetInt32());
            else if (ge.ValueKind == JsonValueKind.Array) parts.ExtraEog.AddRange(ge.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.Number).Select(x => x.GetInt32()));
            parts.ExtraEog.RemoveAll(id => id < 0 || id >= n);
        }
        if (parts.AddBos && parts.Bos == null) throw new FurnaceFormatException(path, "add_bos_token is set but no BOS token is defined");
        return new Tokenizer(parts);
    }

    private static Func<string, string>? BuildNormalizer(string path, JsonElement? n)
    {
        if (n is not { ValueKind: JsonValueKind.Object } e) return null;
        switch (Str(e, "type"))
        {
            case "Sequence":
                var steps = (Obj(e, "normalizers")?.EnumerateArray() ?? default).Select(x => BuildNormalizer(path, x)).OfType<Func<string, string>>().ToArray();
                return s =>
                {
                    foreach (var f in steps) s = f(s);
                    return s;
                };
            case "Prepend":
                string pre = Str(e, "prepend") ?? "";
                return s => s.Length == 0 ? s : pre + s;
            case "Replace":
                string? from = Obj(e, "pattern") is { } pat ? Str(pat, "String") : null;
                string to = Str(e, "content") ?? "";
                if (from == null)
                {
                    string regex = Obj(e, "pattern") is { } rp ? Str(rp, "Regex") ?? "" : "";
                    var r = new Regex(regex, RegexOptions.CultureInvariant);
                    return s => r.Replace(s, to);
                }
                return s => s.Replace(from, to, StringComparison.Ordinal);
            case "Lowercase":
                return s => s.ToLowerInvariant();
            case "NFC":
            case "NFKC":
                // Furnace runs with invariant globalization (no ICU): text is taken to be normalized already
                return null;
            default:
                throw new FurnaceFormatException(path, $"normalizer '{Str(e, "type")}' is not supported");
        }
    }

    private static void ReadPreTokenizer(string path, JsonElement? p, TokenizerParts parts, List<SplitRule> rules, List<string> desc)
    {
        if (p is not { ValueKind: JsonValueKind.Object } e) return;
        string? type = Str(e, "type");
        switch (type)
        {
            case "Sequence":
                foreach (var x in Obj(e, "pretokenizers")?.EnumerateArray() ?? default) ReadPreTokenizer(path, x, parts, rules, desc);
                return;
            case "ByteLevel":
                parts.ByteLevel = true;
                if (Bool(e, "add_prefix_space") == true)
                {
                    parts.SpacePrefix = SpacePrefix.EveryFragment;
                    parts.PrefixUnlessPresent = true;
                }
                if (Bool(e, "use_regex") ?? true) rules.Add(new SplitRule(SplitRule.Gpt2Pattern));
                desc.Add("ByteLevel");
                return;
            case "Split":
            {
                var pat = Obj(e, "pattern");
                string regex = pat is { } pp && Str(pp, "Regex") is { } r ? r
                    : pat is { } ps && Str(ps, "String") is { } s ? Regex.Escape(s)
                    : throw new FurnaceFormatException(path, "Split pre-tokenizer without a pattern");
                var behavior = Str(e, "behavior") switch
                {
                    "Isolated" or null => SplitBehavior.Isolated,
                    "Removed" => SplitBehavior.Removed,
                    "MergedWithPrevious" => SplitBehavior.MergedWithPrevious,
                    "MergedWithNext" => SplitBehavior.MergedWithNext,
                    var other => throw new FurnaceFormatException(path, $"Split behavior '{other}' is not supported"),
                };
                rules.Add(new SplitRule(regex, behavior, Bool(e, "invert") ?? false));
                desc.Add("Split");
                return;
            }
            case "Digits":
                rules.Add(new SplitRule(Bool(e, "individual_digits") == true ? @"\p{N}" : @"\p{N}+"));
                desc.Add("Digits");
                return;
            case "Metaspace":
            {
                parts.EscapeWhitespace = true;
                parts.PrefixUnlessPresent = true;
                string scheme = Str(e, "prepend_scheme") ?? (Bool(e, "add_prefix_space") == false ? "never" : "always");
                parts.SpacePrefix = scheme switch { "first" => SpacePrefix.FirstFragment, "never" => SpacePrefix.Never, _ => SpacePrefix.EveryFragment };
                if (Bool(e, "split") ?? true) rules.Add(new SplitRule("\u2581", SplitBehavior.MergedWithNext));
                desc.Add("Metaspace");
                return;
            }
            default:
                throw new FurnaceFormatException(path, $"pre-tokenizer '{type}' is not supported");
        }
    }

    private static void ReadDecoder(JsonElement? d, TokenizerParts parts)
    {
        if (d is not { ValueKind: JsonValueKind.Object } e) return;
        switch (Str(e, "type"))
        {
            case "Sequence":
                foreach (var x in Obj(e, "decoders")?.EnumerateArray() ?? default) ReadDecoder(x, parts);
                break;
            case "ByteLevel":
                parts.ByteLevel = true;
                break;
            case "Strip":
                if ((Obj(e, "start")?.GetInt32() ?? 0) > 0) parts.StripFirstSpace = true;
                break;
            case "Metaspace":
                if ((Str(e, "prepend_scheme") ?? "always") != "never" && Bool(e, "add_prefix_space") != false) parts.StripFirstSpace = true;
                break;
        }
    }

    private static void ReadPostProcessor(JsonElement? pp, TokenizerParts parts, SpanStringMap ids)
    {
        if (pp is not { ValueKind: JsonValueKind.Object } e) return;
        switch (Str(e, "type"))
        {
            case "Sequence":
                foreach (var x in Obj(e, "processors")?.EnumerateArray() ?? default) ReadPostProcessor(x, parts, ids);
                break;
            case "TemplateProcessing":
                if (Obj(e, "single") is { ValueKind: JsonValueKind.Array } single && single.GetArrayLength() > 0)
                {
                    var items = single.EnumerateArray().ToList();
                    if (SpecialOf(items[0]) is { } first && ids.Get(first) is >= 0 and var b)
                    {
                        parts.Bos = b;
                        parts.AddBos = true;
                    }
                    if (items.Count > 1 && SpecialOf(items[^1]) is { } last && ids.Get(last) is >= 0 and var eos)
                    {
                        parts.Eos ??= eos;
                        parts.AddEos = true;
                    }
                }
                break;
        }
    }

    private static string? SpecialOf(JsonElement item) =>
        Obj(item, "SpecialToken") is { } st ? Str(st, "id") : null;

    private static string? TokenText(JsonElement cfg, string key) => Obj(cfg, key) switch
    {
        { ValueKind: JsonValueKind.String } s => s.GetString(),
        { ValueKind: JsonValueKind.Object } o => Str(o, "content"),
        _ => null,
    };

    private static JsonElement? Obj(JsonElement e, string key) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null ? v : null;

    private static string? Str(JsonElement e, string key) => Obj(e, key) is { ValueKind: JsonValueKind.String } s ? s.GetString() : null;

    private static bool? Bool(JsonElement e, string key) => Obj(e, key) switch
    {
        { ValueKind: JsonValueKind.True } => true,
        { ValueKind: JsonValueKind.False } => false,
        _ => null,
    };
}
