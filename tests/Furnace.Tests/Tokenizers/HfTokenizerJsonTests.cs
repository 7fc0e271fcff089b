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

    // The GGUF vocabulary written as the model's tokenizer.json would be.
    internal static byte[] ToTokenizerJson(GgufFile f)
    {
        var tokens = f.GetArray<string>("tokenizer.ggml.tokens")!;
        var types = f.GetArray<int>("tokenizer.ggml.token_type")!;
        string model = f.GetString("tokenizer.ggml.model")!;
        string? pre = f.GetString("tokenizer.ggml.pre");
        bool spm = model == "llama";
        var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = false }))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteStartArray("added_tokens");
            for (int i = 0; i < tokens.Length; i++)
            {
                if (types[i] is not (2 or 3 or 4)) continue;
                w.WriteStartObject();
                w.WriteNumber("id", i);
                w.WriteString("content", tokens[i]);
                w.WriteBoolean("special", types[i] != 4);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            if (spm)
            {
                w.WriteStartObject("normalizer");
                w.WriteString("type", "Sequence");
                w.WriteStartArray("normalizers");
                w.WriteRawValue("""{"type":"Prepend","prepend":"▁"}""");
                w.WriteRawValue("""{"type":"Replace","pattern":{"String":" "},"content":"▁"}""");
                w.WriteEndArray();
                w.WriteEndObject();
                w.WriteNull("pre_tokenizer");
            }
            else
            {
                w.WriteNull("normalizer");
                w.WriteStartObject("pre_tokenizer");
                w.WriteString("type", "Sequence");
                w.WriteStartArray("pretokenizers");
                string[] splits = pre switch
                {
                    "deepseek-llm" => ["[\r\n]", DeepSeekLetters(), "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", "[一-龥ࠀ-一가-퟿]+", "\\p{N}+"],
                    "deepseek-coder" => ["[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"],
                    _ => [],
                };
                foreach (var r in splits)
                {
                    w.WriteStartObject();
                    w.WriteString("type", "Split");
                    w.WriteStartObject("pattern");
                    w.WriteString("Regex", r);
                    w.WriteEndObject();
                    w.WriteString("behavior", "Isolated");
                    w.WriteBoolean("invert", false);
                    w.WriteEndObject();
                }
                w.WriteStartObject();
                w.WriteString("type", "ByteLevel");
                w.WriteBoolean("add_prefix_space", false);
                w.WriteBoolean("use_regex", splits.Length == 0);
                w.WriteEndObject();
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteStartObject("decoder");
            if (spm)
            {
                w.WriteString("type", "Sequence");
                w.WriteStartArray("decoders");
                w.WriteRawValue("""{"type":"Replace","pattern":{"String":"▁"},"content":" "}""");
                w.WriteRawValue("""{"type":"ByteFallback"}""");
                w.WriteRawValue("""{"type":"Fuse"}""");
                w.WriteRawValue("""{"type":"Strip","content":" ","start":1,"stop":0}""");
                w.WriteEndArray();
            }
            else w.WriteString("type", "ByteLevel");
            w.WriteEndObject();
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            if (spm)
            {
                w.WriteBoolean("byte_fallback", true);
                w.WriteBoolean("fuse_unk", true);
                w.WriteString("unk_token", "<unk>");
            }
            w.WriteStartObject("vocab");
            for (int i = 0; i < tokens.Length; i++) w.WriteNumber(tokens[i], i);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var m in spm ? MergesFromScores(tokens, f.GetArray<float>("tokenizer.ggml.scores")!) : f.GetArray<string>("tokenizer.ggml.merges")!) w.WriteStringValue(m);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return ms.ToArray();
    }

    // HF's SentencePieceExtractor: pieces by descending score; for each, every split into two vocabulary pieces,
    // ordered by the ids of the two halves.
    private static IEnumerable<string> MergesFromScores(string[] tokens, float[] scores)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++) ids.TryAdd(tokens[i], i);
        foreach (int piece in Enumerable.Range(0, tokens.Length).OrderByDescending(i => scores[i]).ThenBy(i => i))
        {
            string t = tokens[piece];
            var local = new List<(int L, int R, string M)>();
            for (int k = 1; k < t.Length; k++)
            {
                if (char.IsLowSurrogate(t[k])) continue;
                if (ids.TryGetValue(t[..k], out int l) && ids.TryGetValue(t[k..], out int r)) local.Add((l, r, t[..k] + " " + t[k..]));
            }
            foreach (var m in local.OrderBy(x => x.L).ThenBy(x => x.R)) yield return m.M;
        }
    }

    // the same cased-letter class as llama.cpp's deepseek-llm regex, written from codepoints
    private static string DeepSeekLetters() => "\\s?[" + LlamaCppPresets.DeepSeekCasedLetters + "]+";
}
