// Streaming decode: feeding ids one at a time gives the same text as decoding them at once, and never emits a
// replacement character for a character split across tokens.
using Furnace.Formats.Gguf;
using Furnace.Formats.Tokenizers;

namespace Furnace.Tests.Tokenizers;

public sealed class Utf8StreamDecoderTests
{
    [Theory]
    [InlineData("ggml-vocab-llama-spm.gguf")]
    [InlineData("ggml-vocab-gpt-2.gguf")]
    [InlineData("ggml-vocab-deepseek-llm.gguf")]
    public void StreamingEqualsDecodingAtOnce(string vocab)
    {
        using var f = GgufFile.Open(Path.Combine(LlamaCppVocabFixtures.Dir, vocab));
        var tok = Tokenizer.FromGguf(f);
        const string text = "🚀 naïve 我想在apple工作 😶‍🌫️ ✅ Ελληνικά 𝔘𝔫𝔦 done";
        // generated ids carry no BOS: the first token's SentencePiece prefix space is dropped and the text is exact
        int[] ids = tok.Encode(text, addSpecial: false);
        var dec = new Utf8StreamDecoder(tok);
        var sb = new System.Text.StringBuilder();
        foreach (int id in ids)
        {
            string part = dec.Push(id);
            Assert.DoesNotContain('\uFFFD', part);
            sb.Append(part);
        }
        sb.Append(dec.Flush());
        Assert.Equal(tok.Decode(ids, skipSpecial: true), sb.ToString());
        Assert.Equal(text, sb.ToString());
    }

    [Fact]
    public void ByteFallbackPiecesAreHeldUntilTheCharacterIsWhole()
    {
        using var f = GgufFile.Open(Path.Combine(LlamaCppVocabFixtures.Dir, "ggml-vocab-llama-spm.gguf"));
        var tok = Tokenizer.FromGguf(f);
        int e4 = tok.TokenId("<0xF0>")!.Value, b8 = tok.TokenId("<0x9F>")!.Value, a6 = tok.TokenId("<0xA6>")!.Value, x99 = tok.TokenId("<0x99>")!.Value;
        Assert.Equal([0xF0], tok.TokenBytes(e4));
        var dec = new Utf8StreamDecoder(tok);
        Assert.Equal("", dec.Push(e4));
        Assert.Equal("", dec.Push(b8));
        Assert.Equal("", dec.Push(a6));
        Assert.Equal("🦙", dec.Push(x99));
        Assert.Equal("", dec.Push(e4));
        Assert.Equal("\uFFFD", dec.Flush());
    }

    [Fact]
    public void BadTokenIdsNameTheIdAndTheVocabularySize()
    {
        using var f = GgufFile.Open(Path.Combine(LlamaCppVocabFixtures.Dir, "ggml-vocab-gpt-2.gguf"));
        var tok = Tokenizer.FromGguf(f);
        var e = Assert.Throws<FurnaceException>(() => tok.Decode([1, 50257]));
        Assert.Contains("50257", e.Message);
        Assert.Contains("size 50257", e.Message);
        Assert.Throws<FurnaceException>(() => tok.TokenBytes(-1));
        Assert.Throws<FurnaceException>(() => new Utf8StreamDecoder(tok).Push(99999));
    }

    [Fact]
    public void SpecialTokensParseOnlyWhenAsked()
    {
        using var f = GgufFile.Open(Path.Combine(LlamaCppVocabFixtures.Dir, "ggml-vocab-llama-spm.gguf"));
        var tok = Tokenizer.FromGguf(f);
        Assert.Equal([1, 15043, 2], tok.Encode("Hello</s>", addSpecial: true, parseSpecial: true));
        Assert.DoesNotContain(2, tok.Encode("Hello</s>", addSpecial: true, parseSpecial: false));
        Assert.Contains(2, tok.EndOfGenerationIds);
        Assert.Equal("<s> Hello</s>", tok.Decode([1, 15043, 2]));
        // llama.cpp keeps the prefix space once it has removed a BOS (llama_detokenize), and so does Furnace
        Assert.Equal(" Hello", tok.Decode([1, 15043, 2], skipSpecial: true));
        Assert.Equal("Hello", tok.Decode([15043, 2], skipSpecial: true));
    }
}
