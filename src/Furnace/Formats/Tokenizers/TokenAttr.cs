// Per-token attributes, as llama.cpp's llama_token_attr: what a vocabulary entry is (normal text, a control token, a
// user-defined added token, a byte-fallback token...) decides whether the text may produce it and how it decodes.
namespace Furnace.Formats.Tokenizers;

[Flags]
internal enum TokenAttr
{
    Undefined = 0,
    Unknown = 1 << 0,
    Unused = 1 << 1,
    Normal = 1 << 2,
    Control = 1 << 3,
    UserDefined = 1 << 4,
    Byte = 1 << 5,
    LStrip = 1 << 7,
    RStrip = 1 << 8,
}

internal static class TokenAttrs
{
    /// <summary>GGUF tokenizer.ggml.token_type values (llama_token_type) to attributes.</summary>
    public static TokenAttr FromGgufType(int type) => type switch
    {
        1 => TokenAttr.Normal,
        2 => TokenAttr.Unknown,
        3 => TokenAttr.Control,
        4 => TokenAttr.UserDefined,
        5 => TokenAttr.Unused,
        6 => TokenAttr.Byte,
        _ => TokenAttr.Undefined,
    };
}
