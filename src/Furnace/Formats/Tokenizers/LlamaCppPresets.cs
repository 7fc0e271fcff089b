// The byte-level BPE pre-tokenizers llama.cpp selects by the GGUF key tokenizer.ggml.pre, with the flags that go with
// each (llama_vocab::impl::load and the llm_tokenizer_bpe constructor in llama.cpp's src/llama-vocab.cpp). The regexes
// are llama.cpp's adaptations of the ones in each model's tokenizer.json (e.g. (?i:..) spelled out for std::regex).
namespace Furnace.Formats.Tokenizers;

internal sealed record BpePreset(string[] Patterns, bool CleanSpaces = true, bool IgnoreMerges = false, bool AddBos = false);

internal static class LlamaCppPresets
{
    private const string Gpt2 = SplitRule.Gpt2Pattern;
    private const string Llama3 = SplitRule.Llama3Pattern;
    private const string Qwen2 = @"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
    private const string Poro = @" ?[^(\s|.,!?…。，、।۔،)]+";

    // DeepSeek-LLM's letter class, as codepoint ranges: written as literals it is at the mercy of any tool that
    // NFC-normalizes source text (U+1FD3, U+2126, U+212A... have singleton decompositions and would break the ranges).
    internal static readonly string DeepSeekCasedLetters = CharClass(
        "0041-005A", "0061-007A", "00B5", "00C0-00D6", "00D8-00F6", "00F8-01BA", "01BC-01BF", "01C4-0293",
        "0295-02AF", "0370-0373", "0376-0377", "037B-037D", "037F", "0386", "0388-038A", "038C", "038E-03A1",
        "03A3-03F5", "03F7-0481", "048A-052F", "0531-0556", "10A0-10C5", "13A0-13F5", "13F8-13FD", "1C90-1CBA",
        "1CBD-1CBF", "1D00-1D2B", "1D6B-1D77", "1D79-1D9A", "1E00-1F15", "1F18-1F1D", "1F20-1F45", "1F48-1F4D",
        "1F50-1F57", "1F59", "1F5B", "1F5D", "1F5F-1F7D", "1F80-1FB4", "1FB6-1FBC", "1FBE", "1FC2-1FC4", "1FC6-1FCC",
        "1FD0-1FD3", "1FD6-1FDB", "1FE0-1FEC", "1FF2-1FF4", "1FF6-1FFC", "2102", "2107", "210A-2113", "2115",
        "2119-211D", "2124", "2126", "2128", "212A-212D", "212F-2134", "2139", "213C-213F", "2145-2149", "214E",
        "2183-2184", "2C00-2C7B", "2C7E-2CE4", "2CEB-2CEE", "2CF2-2CF3", "A640-A66D", "A680-A69B", "A722-A76F",
        "A771-A787", "A78B-A78E", "AB70-ABBF", "FB00-FB06", "FB13-FB17", "FF21-FF3A", "FF41-FF5A", "10400-1044F",
        "104B0-104D3", "104D8-104FB", "10C80-10CB2", "10CC0-10CF2", "118A0-118DF", "1E900-1E943");

    private static string CharClass(params string[] ranges)
    {
        var sb = new System.Text.StringBuilder();
        foreach (var r in ranges)
        {
            var ends = r.Split('-');
            sb.Append(char.ConvertFromUtf32(Convert.ToInt32(ends[0], 16)));
            if (ends.Length == 2) sb.Append('-').Append(char.ConvertFromUtf32(Convert.ToInt32(ends[1], 16)));
        }
        return sb.ToString();
    }

    private static readonly string[] DeepSeekLlm =
    [
        "[\r\n]",
        @"\s?[" + DeepSeekCasedLetters + "]+",
        @"\s?[!-/:-~！-／：-～‘-‟　-。]+",
        @"\s+$",
        "[一-龥ࠀ-一가-퟿]+",
        @"\p{N}+",
    ];

    private static readonly string[] DeepSeekCoder = ["[\r\n]", @"\s?\p{L}+", @"\s?\p{P}+", "[一-龥ࠀ-一가-퟿]+", @"\p{N}"];

    private static readonly string[] DeepSeekV3 =
    [
        @"\p{N}{1,3}",
        "[一-龥぀-ゟ゠-ヿ]+",
        "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+",
    ];

    private static readonly string[] Falcon = [@"[\p{P}\$\+<=>\^~\|`]+", Gpt2, "[0-9][0-9][0-9]"];

    private static readonly string[] StarCoder = [@"\p{N}", Gpt2];

    private static readonly string[] Default = [@"[\p{P}\$\+<=>\^~\|]+", Gpt2, @"\p{N}+", "[0-9][0-9][0-9]"];

    private static readonly string[] Tekken =
    [
        @"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ];

    private static readonly string[] Gpt4o =
    [
        @"[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))*((?=[\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\r\n\p{L}\p{N}]?((?=[\p{L}])([^a-z]))+((?=[\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+",
    ];

    private static readonly string[] Chameleon =
    [
        "<sentinel:[0-9]+>",
        "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z",
        "([\\t\\n]|    |  )",
        @"\p{N}",
        @"[\p{P}!-/:-@\[-`{-~]",
        Gpt2,
    ];

    /// <summary>The preset for a tokenizer.ggml.pre value, or null for a name llama.cpp does not know either.</summary>
    public static BpePreset? Find(string? pre) => pre switch
    {
        null or "" or "default" => new(Default),
        "llama3" or "llama-v3" or "llama-bpe" or "falcon3" or "falcon-h1" or "pixtral" or "midm-2.0" or "lfm2"
            => new([Llama3], IgnoreMerges: true, AddBos: true),
        "dbrx" or "smaug-bpe" => new([Llama3]),
        "deepseek-llm" => new(DeepSeekLlm, CleanSpaces: false),
        "deepseek-coder" => new(DeepSeekCoder, CleanSpaces: false),
        "deepseek-v3" => new(DeepSeekV3, CleanSpaces: false),
        "falcon" => new(Falcon),
        "mpt" or "olmo" or "jais" or "trillion" => new([Gpt2], CleanSpaces: pre != "trillion"),
        "gpt-2" or "phi-2" or "jina-es" or "jina-de" or "gigachat" or "jina-v2-es" or "jina-v2-de" or "a.x-4.0"
            or "mellum" or "modern-bert" or "jina-v1-en" or "jina-v2-code" or "roberta-bpe" or "exaone4" => new([Gpt2]),
        "starcoder" or "refact" or "codeshell" or "exaone" or "minerva-7b" => new(StarCoder),
        "command-r" or "smollm" => new(StarCoder, CleanSpaces: false),
        "qwen2" or "deepseek-r1-qwen" or "kormo" or "megrez" => new([Qwen2], CleanSpaces: pre == "megrez"),
        "stablelm2" => new([Qwen2]),
        "chatglm-bpe" or "glm4" => new([Llama3]),
        "poro-chat" => new([Poro], CleanSpaces: false),
        "bloom" or "gpt3-finnish" => new([Poro]),
        "viking" => new([Poro, @"\p{N}"], CleanSpaces: false),
        "tekken" => new(Tekken, CleanSpaces: false, IgnoreMerges: true, AddBos: true),
        "gpt-4o" or "llama4" => new(Gpt4o, CleanSpaces: false),
        "chameleon" => new(Chameleon, CleanSpaces: false, AddBos: true),
        "seed-coder" => new([@"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1}| ?[^\s\p{L}\p{N}\r\n]+|\s*[\r\n]+|\s+(?!\S)|\s+"], CleanSpaces: false),
        "superbpe" => new([@"\p{N}+", @"(?=(\d{3})+(?!\d))"], CleanSpaces: false),
        _ => null,
    };
}
