// ClipTokenizer on a small hand-made vocabulary: byte-level letters with and without "</w>", a few merges, the
// CLIP pre-tokenizer regex (contractions, single digits, punctuation runs), lowercasing, special tokens,
// truncation to the context with the end token kept, and loading from tokenizer.json and vocab.json + merges.txt.
using System.Text.Json;
using Furnace.Formats.Tokenizers;
using Furnace.Tests.Support;

namespace Furnace.Tests.Tokenizers;

public sealed class ClipTokenizerTests
{
    private static readonly (string, string)[] Merges =
    [
        ("h", "e"), ("l", "l"), ("he", "ll"), ("hell", "o</w>"), ("o", "r"), ("w", "or"), ("l", "d</w>"), ("wor", "ld</w>"),
        ("'", "s</w>"), ("i", "t</w>"),
    ];

    private static Dictionary<string, int> Vocab()
    {
        var v = new Dictionary<string, int>();
        foreach (char c in "abcdefghijklmnopqrstuvwxyz0123456789!?.,'") v[c.ToString()] = v.Count;
        foreach (char c in "abcdefghijklmnopqrstuvwxyz0123456789!?.,'") v[c + "</w>"] = v.Count;
        foreach (var (a, b) in Merges) v[a + b] = v.Count;
        v[ClipTokenizer.StartOfText] = v.Count;
        v[ClipTokenizer.EndOfText] = v.Count;
        return v;
    }

    private static ClipTokenizer Tiny(int maxLength = 77) => new(Vocab(), Merges, maxLength);

    private static string[] Pieces(ClipTokenizer t, int[] ids, Dictionary<string, int> vocab)
    {
        var byId = vocab.ToDictionary(kv => kv.Value, kv => kv.Key);
        return ids.Select(i => byId[i]).ToArray();
    }

    [Fact]
    public void Encode_MergesByRank_WithEndOfWordSuffix()
    {
        var t = Tiny();
        var v = Vocab();
        Assert.Equal(
            ["<|startoftext|>", "hello</w>", "world</w>", "!</w>", "<|endoftext|>"],
            Pieces(t, t.Encode("  Hello\n\tWORLD! "), v));
        // mid-word "o" has no "</w>", so "hello</w>" cannot form; "hell" and "world</w>" do
        Assert.Equal(["hell", "world</w>"], Pieces(t, t.Encode("hellworld", addSpecial: false), v));
        Assert.Equal(["hell", "o", "o", "w", "r", "ld</w>"], Pieces(t, t.Encode("helloowrld", addSpecial: false), v));
    }

    [Fact]
    public void Encode_SplitsContractionsDigitsAndPunctuation()
    {
        var t = Tiny();
        var v = Vocab();
        Assert.Equal(["it</w>", "'s</w>", "4</w>", "2</w>", "?", "!", ".</w>", "a</w>"], Pieces(t, t.Encode("It's 42?!. a", addSpecial: false), v));
        // special tokens written in the text are single tokens
        Assert.Equal([t.BosId, v["a</w>"], t.EosId], t.Encode("<|startoftext|>a<|endoftext|>", addSpecial: false));
    }

    [Fact]
    public void Encode_TruncatesToTheContext_KeepingTheEndToken()
    {
        var t = Tiny(maxLength: 6);
        int[] ids = t.Encode("a b c d e f g h");
        Assert.Equal(6, ids.Length);
        Assert.Equal(t.BosId, ids[0]);
        Assert.Equal(t.EosId, ids[^1]);
        Assert.Equal(Vocab()["d</w>"], ids[4]);
    }

    [Fact]
    public void Decode_JoinsWordsAndSkipsSpecials()
    {
        var t = Tiny();
        Assert.Equal("hello world !", t.Decode(t.Encode("Hello world!")));
    }

    [Fact]
    public void Load_FromTokenizerJsonAndFromVocabMerges_Agree()
    {
        using var dir = new TempDir();
        var vocab = Vocab();
        var added = new[] { ClipTokenizer.StartOfText, ClipTokenizer.EndOfText }
            .Select(s => new Dictionary<string, object> { ["id"] = vocab[s], ["content"] = s, ["special"] = true }).ToArray();
        var json = new Dictionary<string, object>
        {
            ["added_tokens"] = added,
            ["model"] = new Dictionary<string, object>
            {
                ["type"] = "BPE", ["end_of_word_suffix"] = "</w>", ["continuing_subword_prefix"] = "",
                ["vocab"] = vocab.Where(kv => !kv.Key.StartsWith("<|", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value),
                ["merges"] = Merges.Select(m => m.Item1 + " " + m.Item2).ToArray(),
            },
        };
        File.WriteAllText(dir.File("tokenizer.json"), JsonSerializer.Serialize(json));
        File.WriteAllText(dir.File("tokenizer_config.json"), """{"model_max_length": 8}""");
        var fromJson = ClipTokenizer.FromHuggingFace(dir.File("tokenizer.json"));
        Assert.Equal(8, fromJson.MaxLength);

        using var slow = new TempDir();
        File.WriteAllText(slow.File("vocab.json"), JsonSerializer.Serialize(vocab));
        File.WriteAllLines(slow.File("merges.txt"), ["#version: 0.2", .. Merges.Select(m => m.Item1 + " " + m.Item2)]);
        var fromSlow = ClipTokenizer.FromHuggingFace(slow.Path);
        Assert.Equal(77, fromSlow.MaxLength);

        foreach (string text in new[] { "Hello world!", "it's 2 worlds", "hello hello hello hello hello" })
        {
            Assert.Equal(Tiny(8).Encode(text), fromJson.Encode(text));
            Assert.Equal(Tiny().Encode(text), fromSlow.Encode(text));
        }
    }

    [Fact]
    public void Load_NonClipTokenizerJson_Fails()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("tokenizer.json"), """{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}""");
        var e = Assert.Throws<FurnaceFormatException>(() => ClipTokenizer.FromHuggingFace(dir.Path));
        Assert.Contains("end_of_word_suffix", e.Message);
    }
}
