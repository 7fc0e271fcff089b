// Everything a loader (GGUF or tokenizer.json) decides about a vocabulary, handed to the Tokenizer constructor.
// Kept as a plain mutable bag so both loaders can fill it step by step; the Tokenizer validates and freezes it.
namespace Furnace.Formats.Tokenizers;

internal enum VocabKind
{
    // SentencePiece BPE by scores (GGUF tokenizer.ggml.model = llama)
    Spm,

    // BPE by merge ranks: byte-level (GGUF gpt2, HF ByteLevel) or on raw text with byte fallback (HF Llama-2 style)
    Bpe,

    // BERT WordPiece (GGUF bert)
    Wpm,
}

/// <summary>When a raw-text fragment gets a leading space (the SentencePiece "dummy prefix").</summary>
internal enum SpacePrefix
{
    Never,

    // every fragment: GGUF SPM (after BOS and after every special token), HF Prepend normalizer, HF ByteLevel
    // add_prefix_space, HF Metaspace prepend_scheme "always"
    EveryFragment,

    // only a fragment that starts the text (HF Metaspace prepend_scheme "first")
    FirstFragment,
}

internal sealed class TokenizerParts
{
    public required VocabKind Kind { get; init; }

    public required string[] Tokens { get; init; }

    public required TokenAttr[] Attrs { get; init; }

    public float[]? Scores { get; set; }

    public SpanStringMap Ids { get; set; } = new();

    public int? Bos { get; set; }

    public int? Eos { get; set; }

    public int? Eot { get; set; }

    public int? Eom { get; set; }

    public int? Unk { get; set; }

    public int? Sep { get; set; }

    public int? Pad { get; set; }

    public bool AddBos { get; set; }

    public bool AddEos { get; set; }

    public bool AddSep { get; set; }

    public SpacePrefix SpacePrefix { get; set; }

    // the prefix is a space the text may already have (HF), rather than one added regardless (SentencePiece/llama.cpp)
    public bool PrefixUnlessPresent { get; set; }

    // spaces become ▁ before the model sees the text
    public bool EscapeWhitespace { get; set; }

    // byte-level BPE: words are spelled in GPT-2's byte alphabet before merging, and tokens decode through it
    public bool ByteLevel { get; set; }

    // the first decoded token loses one leading space (llama.cpp remove_space for add_space_prefix; HF Strip decoder)
    public bool StripFirstSpace { get; set; }

    // llama.cpp clean_spaces / HF clean_up_tokenization_spaces: " ." -> "." and friends on decode
    public bool CleanSpaces { get; set; }

    public PreTokenizer Pre { get; set; } = PreTokenizer.None;

    public BpeModel? Bpe { get; set; }

    public SpmModel? Spm { get; set; }

    public WpmModel? Wpm { get; set; }

    public Func<string, string>? Normalizer { get; set; }

    public string? PreName { get; set; }

    // the Jinja chat template the source carries (GGUF tokenizer.chat_template, tokenizer_config chat_template)
    public string? ChatTemplate { get; set; }

    public string Source { get; set; } = "";

    // extra end-of-generation ids named by the source (HF generation_config / tokenizer_config), besides detection
    public List<int> ExtraEog { get; } = [];
}
