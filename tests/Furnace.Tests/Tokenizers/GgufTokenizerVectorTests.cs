// The GGUF tokenizers against llama.cpp's own test vectors (generated from the HF tokenizers of each model), with
// test-tokenizer-0's settings: add_special = false, parse_special = false.
using Furnace.Formats.Gguf;
using Furnace.Formats.Tokenizers;

namespace Furnace.Tests.Tokenizers;

public sealed class GgufTokenizerVectorTests
{
    public static TheoryData<string> Vocabs() => [.. LlamaCppVocabFixtures.VocabsWithVectors()];

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void EncodesEveryVectorExactly(string vocab)
    {
        using var f = GgufFile.Open(Path.Combine(LlamaCppVocabFixtures.Dir, vocab));
        var tok = Tokenizer.FromGguf(f);
        var failures = new List<string>();
        foreach (var (text, expected) in LlamaCppVocabFixtures.Cases(vocab))
        {
            int[] got = tok.Encode(text, addSpecial: false, parseSpecial: false);
            if (!got.AsSpan().SequenceEqual(expected))
                failures.Add($"'{Escape(text)}'\n   expected {string.Join(' ', expected)}\n   got      {string.Join(' ', got)}");
        }
        Assert.True(failures.Count == 0, $"{vocab}: {failures.Count} cases differ\n" + string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void DecodeOfVectorsGivesBackTheText(string vocab)
    {
        using var f = GgufFile.Open(Path.Combine(LlamaCppVocabFixtures.Dir, vocab));
        var tok = Tokenizer.FromGguf(f);
        if (tok.ModelType == "wpm") return; // WordPiece lowercases and drops whitespace: not reversible
        foreach (var (text, expected) in LlamaCppVocabFixtures.Cases(vocab))
        {
            string back = tok.Decode(expected);
            // the round trip is exact up to llama.cpp's clean-up of spaces before punctuation
            if (tok.Decode(tok.Encode(text, false)) is var again) Assert.Equal(back, again);
        }
    }

    internal static string Escape(string s) => s.Replace("\n", "\\n").Replace("\t", "\\t").Replace("\r", "\\r");
}
