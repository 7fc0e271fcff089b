// Tokenizer -> GGUF tokenizer metadata: a tokenizer.json (or a GGUF vocabulary) written out with ToGgufMetadata and
// loaded back with Tokenizer.FromGguf must still pass llama.cpp's test vectors, with the pre-tokenizer name llama.cpp
// would give it.
using Furnace.Formats.Gguf;
using Furnace.Formats.Tokenizers;
using Furnace.Tests.Support;

namespace Furnace.Tests.Tokenizers;

public sealed class GgufVocabExportTests
{
    [Theory]
    [InlineData("ggml-vocab-gpt-2.gguf", "gpt2", "gpt-2")]
    [InlineData("ggml-vocab-deepseek-llm.gguf", "gpt2", "deepseek-llm")]
    [InlineData("ggml-vocab-deepseek-coder.gguf", "gpt2", "deepseek-coder")]
    [InlineData("ggml-vocab-llama-spm.gguf", "llama", "default")]
    public void TokenizerJson_ToGguf_MatchesTheVectors(string vocab, string model, string pre)
    {
        using var tmp = new TempDir();
        string json = tmp.File("tokenizer.json");
        using (var f = GgufFile.Open(Path.Combine(LlamaCppVocabFixtures.Dir, vocab))) File.WriteAllBytes(json, HfTokenizerJsonTests.ToTokenizerJson(f));
        var hf = Tokenizer.FromHuggingFace(json);
        using var g = WriteAndOpen(tmp.File("v.gguf"), hf.ToGgufMetadata());
        Assert.Equal(model, g.GetString("tokenizer.ggml.model"));
        Assert.Equal(pre, g.GetString("tokenizer.ggml.pre"));
        var back = Tokenizer.FromGguf(g);
        AssertVectors(vocab, back);
        foreach (var (text, _) in LlamaCppVocabFixtures.Cases(vocab))
            Assert.Equal(hf.Encode(text, addSpecial: false), back.Encode(text, addSpecial: false));
    }

    public static TheoryData<string> GgufVocabs()
    {
        var d = new TheoryData<string>();
        foreach (var v in LlamaCppVocabFixtures.VocabsWithVectors())
        {
            using var f = GgufFile.Open(Path.Combine(LlamaCppVocabFixtures.Dir, v));
            if (f.GetString("tokenizer.ggml.model") is "llama" or "gpt2") d.Add(v);
        }
        return d;
    }

    [Theory]
    [MemberData(nameof(GgufVocabs))]
    public void GgufVocabulary_RoundTrips(string vocab)
    {
        using var tmp = new TempDir();
        using var f = GgufFile.Open(Path.Combine(LlamaCppVocabFixtures.Dir, vocab));
        using var g = WriteAndOpen(tmp.File("v.gguf"), Tokenizer.FromGguf(f).ToGgufMetadata());
        Assert.Equal(f.GetString("tokenizer.ggml.pre") ?? "default", g.GetString("tokenizer.ggml.pre"));
        Assert.Equal(f.GetArray<string>("tokenizer.ggml.tokens"), g.GetArray<string>("tokenizer.ggml.tokens"));
        AssertVectors(vocab, Tokenizer.FromGguf(g));
    }

    private const string SplitRuleLlama3 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [Fact]
    public void HfRegexes_NameTheLlamaCppPreTokenizer()
    {
        using var tmp = new TempDir();
        string json = tmp.File("tokenizer.json");
        const string qwen2 = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";
        using (var f = GgufFile.Open(Path.Combine(LlamaCppVocabFixtures.Dir, "ggml-vocab-gpt-2.gguf")))
        {
            File.WriteAllBytes(json, HfTokenizerJson.FromGguf(f, [qwen2]));
            HfTokenizerJson.WriteConfig(tmp.Path, "<|endoftext|>", "<|endoftext|>", addBos: false);
            Assert.Equal("qwen2", Pre(Tokenizer.FromHuggingFace(json)));
            File.WriteAllBytes(json, HfTokenizerJson.FromGguf(f, [SplitRuleLlama3]));
            Assert.Equal("smaug-bpe", Pre(Tokenizer.FromHuggingFace(json))); // llama-bpe when ignore_merges
            File.WriteAllBytes(json, HfTokenizerJson.FromGguf(f, [@"\p{L}+|\s+"]));
            var e = Assert.Throws<FurnaceException>(() => Tokenizer.FromHuggingFace(json).ToGgufMetadata());
            Assert.Contains("none of the ones llama.cpp knows", e.Message);
        }

        static string? Pre(Tokenizer t) => t.ToGgufMetadata().Single(kv => kv.Key == "tokenizer.ggml.pre").Value.Value as string;
    }

    [Fact]
    public void ConfigValues_AndPadding_AreWritten()
    {
        using var tmp = new TempDir();
        HfTokenizerJson.WriteSynthetic(tmp.Path, 400);
        var hf = Tokenizer.FromHuggingFace(tmp.File("tokenizer.json"));
        using var g = WriteAndOpen(tmp.File("v.gguf"), hf.ToGgufMetadata(vocabSize: 416));
        var tokens = g.GetArray<string>("tokenizer.ggml.tokens")!;
        var types = g.GetArray<int>("tokenizer.ggml.token_type")!;
        Assert.Equal(416, tokens.Length);
        Assert.Equal("[PAD415]", tokens[415]);
        Assert.Equal(5, types[415]);
        Assert.Equal(6, types[3 + 0x41]);
        Assert.Equal(3, types[1]);
        Assert.Equal(1, g.GetInt("tokenizer.ggml.bos_token_id"));
        Assert.Equal(2, g.GetInt("tokenizer.ggml.eos_token_id"));
        Assert.Equal(0, g.GetInt("tokenizer.ggml.unknown_token_id"));
        Assert.Equal(HfTokenizerJson.ChatTemplate, g.GetString("tokenizer.chat_template"));
        var back = Tokenizer.FromGguf(g);
        Assert.True(back.AddBos);
        Assert.Equal(hf.Encode("hello world, how are you?"), back.Encode("hello world, how are you?"));
        Assert.Throws<FurnaceException>(() => hf.ToGgufMetadata(vocabSize: 300));
    }

    internal static GgufFile WriteAndOpen(string path, IEnumerable<KeyValuePair<string, GgufValue>> meta)
    {
        var w = new GgufWriter();
        w.Add("general.architecture", "llama");
        foreach (var (k, v) in meta) w.Add(k, v);
        w.Write(path);
        return GgufFile.Open(path);
    }

    private static void AssertVectors(string vocab, Tokenizer tok)
    {
        var failures = new List<string>();
        foreach (var (text, expected) in LlamaCppVocabFixtures.Cases(vocab))
        {
            int[] got = tok.Encode(text, addSpecial: false, parseSpecial: false);
            if (!got.AsSpan().SequenceEqual(expected))
                failures.Add($"'{GgufTokenizerVectorTests.Escape(text)}'\n   expected {string.Join(' ', expected)}\n   got      {string.Join(' ', got)}");
        }
        Assert.True(failures.Count == 0, $"{vocab}: {failures.Count} cases differ\n" + string.Join("\n", failures));
    }
}
