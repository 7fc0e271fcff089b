// tokenizer.json loading: the fixture GGUF vocabularies re-serialized in the layout their Hugging Face repositories
// use (GPT-2: ByteLevel; DeepSeek-LLM/-Coder: a Sequence of Split regexes + ByteLevel; Llama-2: SentencePiece-style
// BPE with byte fallback and the legacy Prepend/Replace normalizer, merges extracted from the scores the way HF's
// LlamaConverter does), then run against llama.cpp's test vectors.
using System.Text;
using System.Text.Json;
using Furnace.Formats.Gguf;
using Furnace.Formats.Tokenizers;
using Furnace.Tests.Support;

namespace Furnace.Tests.Tokenizers;

public sealed class HfTokenizerJsonTests
{
    [Theory]
    [InlineData("ggml-vocab-gpt-2.gguf")]
    [InlineData("ggml-vocab-deepseek-llm.gguf")]
    [InlineData("ggml-vocab-deepseek-coder.gguf")]
    [InlineData("ggml-vocab-llama-spm.gguf")]
    public void TokenizerJsonMatchesTheVectors(string vocab)
    {
        using var tmp = new TempDir();
        string path = Path.Combine(tmp.Path, "tokenizer.json");
        using (var f = GgufFile.Open(Path.Combine(LlamaCppVocabFixtures.Dir, vocab))) File.WriteAllBytes(path, ToTokenizerJson(f));
        var tok = Tokenizer.FromHuggingFace(path);
        var failures = new List<string>();
        foreach (var (text, expected) in LlamaCppVocabFixtures.Cases(vocab))
        {
            int[] got = tok.Encode(text, addSpecial: false, parseSpecial: false);
            if (!got.AsSpan().SequenceEqual(expected))
                failures.Add($"'{GgufTokenizerVectorTests.Escape(text)}'\n   expected {string.Join(' ', expected)}\n   got      {string.Join(' ', got)}");
        }
        Assert.True(failures.Count == 0, $"{vocab}: {failures.Count} cases differ\n" + string.Join("\n", failures));
    }

    [Fact]
    public void ConfigFilesSetBosEosAndEndOfGeneration()
    {
        using var tmp = new TempDir();
        string path = Path.Combine(tmp.Path, "tokenizer.json");
        using (var f = GgufFile.Open(Path.Combine(LlamaCppVocabFixtures.Dir, "ggml-vocab-deepseek-llm.gguf"))) File.WriteAllBytes(path, ToTokenizerJson(f));
        File.WriteAllText(Path.Combine(tmp.Path, "tokenizer_config.json"),
            """{"add_bos_token": true, "add_eos_token": false, "bos_token": {"content": "<｜begin▁of▁sentence｜>"}, "eos_token": "<｜end▁of▁sentence｜>", "clean_up_tokenization_spaces": false, "chat_template": "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ 'User: ' + message['content'] + '\n\n' }}{% elif message['role'] == 'assistant' %}{{ 'Assistant: ' + message['content'] + eos_token }}{% endif %}{% endfor %}"}""");
        var tok = Tokenizer.FromHuggingFace(path);
        Assert.Equal(100000, tok.BosId);
        Assert.Equal(100001, tok.EosId);
        Assert.True(tok.AddBos);
        Assert.Contains(100001, tok.EndOfGenerationIds);
        Assert.Equal([100000, 17464, 1843], tok.Encode("Hello world", addSpecial: true));
        Assert.Equal("deepseek-llm", Furnace.Formats.ChatTemplates.ChatTemplate.Detect(tok.ChatTemplateSource)?.Name);
    }

    [Fact]
    public void MissingFileIsAFurnaceException()
    {
        var e = Assert.Throws<FurnaceException>(() => Tokenizer.FromHuggingFace("/nonexistent/tokenizer.json"));
        Assert.Contains("not found", e.Message);
    }

    internal static byte[] ToTokenizerJson(GgufFile f) => HfTokenizerJson.FromGguf(f, f.GetString("tokenizer.ggml.pre") switch
    {
        "deepseek-llm" => ["[\r\n]", DeepSeekLetters(), "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", "[一-龥ࠀ-一가-퟿]+", "\\p{N}+"],
        "deepseek-coder" => ["[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"],
        _ => [],
    });

    // the same cased-letter class as llama.cpp's deepseek-llm regex, written from codepoints
    private static string DeepSeekLetters() => "\\s?[" + LlamaCppPresets.DeepSeekCasedLetters + "]+";
}
