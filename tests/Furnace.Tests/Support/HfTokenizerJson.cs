// Test support: writes a vocabulary as a Hugging Face tokenizer.json in the layout real repositories use (GPT-2:
// ByteLevel; DeepSeek: a Sequence of Split regexes + ByteLevel; Llama-2: SentencePiece-style BPE with byte fallback and
// the legacy Prepend/Replace normalizer, merges extracted from the scores the way HF's LlamaConverter does). Shared
// by Furnace.Tests, Furnace.Oracle.Tests and Furnace.Cli.Tests (linked source).
using System.Text.Json;
using Furnace.Formats.Gguf;

namespace Furnace.Tests.Support;

public static class HfTokenizerJson
{
    public const string ChatTemplate = "{% for m in messages %}{{ bos_token + '[' + m['role'] + '] ' + m['content'] + eos_token }}{% endfor %}";

    /// <summary>
    /// A model directory's tokenizer.json + tokenizer_config.json (add_bos, BOS/EOS, a chat template) for the
    /// SentencePiece-style synthetic vocabulary of RandomLlama (ids 0..2 = unk/bos/eos, then 256 byte tokens).
    /// </summary>
    public static void WriteSynthetic(string dir, int vocabSize)
    {
        Directory.CreateDirectory(dir);
        string tmp = Path.Combine(dir, "vocab.tmp.gguf");
        var w = new GgufWriter();
        w.Add("general.architecture", "llama");
        foreach (var (k, v) in Furnace.Models.Llama.RandomLlama.SyntheticVocab(vocabSize)) w.Add(k, v);
        w.Write(tmp);
        using (var f = GgufFile.Open(tmp)) File.WriteAllBytes(Path.Combine(dir, "tokenizer.json"), FromGguf(f, []));
        File.Delete(tmp);
        WriteConfig(dir, "<s>", "</s>", addBos: true);
    }

    public static void WriteConfig(string dir, string bos, string eos, bool addBos)
    {
        using var s = File.Create(Path.Combine(dir, "tokenizer_config.json"));
        using var j = new Utf8JsonWriter(s);
        j.WriteStartObject();
        j.WriteBoolean("add_bos_token", addBos);
        j.WriteBoolean("add_eos_token", false);
        j.WriteString("bos_token", bos);
        j.WriteString("eos_token", eos);
        j.WriteBoolean("clean_up_tokenization_spaces", false);
        j.WriteString("chat_template", ChatTemplate);
        j.WriteEndObject();
    }

    /// <summary>The GGUF vocabulary as the model's tokenizer.json: byte-level BPE (with these Split regexes before
    /// ByteLevel, or ByteLevel's own regex when none), or for tokenizer.ggml.model = llama the legacy Llama-2 layout.</summary>
    public static byte[] FromGguf(GgufFile f, string[] splits)
    {
        var tokens = f.GetArray<string>("tokenizer.ggml.tokens")!;
        var types = f.GetArray<int>("tokenizer.ggml.token_type")!;
        string model = f.GetString("tokenizer.ggml.model")!;
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
}
