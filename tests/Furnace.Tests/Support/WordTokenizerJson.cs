// Test support: a word-level tokenizer in the real tokenizer.json format — GPT-2 byte-level BPE whose vocabulary
// holds each given pre-token whole ("Ġred" is one token), built by a chain of merges per word, plus "<unk>" and
// "</s>" (EOS) as special tokens; tokenizer_config.json with add_bos false and no chat template (so LLaVA-1.5's
// "USER: ... ASSISTANT:" format applies). Pieces are in byte-level form: "Ġ" = space, "Ċ" = newline.
using System.Text.Json;

namespace Furnace.Tests.Support;

public static class WordTokenizerJson
{
    /// <summary>Writes dir/tokenizer.json + tokenizer_config.json; returns the vocabulary size.</summary>
    public static int Write(string dir, IEnumerable<string> pieces)
    {
        Directory.CreateDirectory(dir);
        var vocab = new List<string> { "<unk>", "</s>" };
        var ids = new Dictionary<string, int>(StringComparer.Ordinal) { ["<unk>"] = 0, ["</s>"] = 1 };
        var merges = new List<string>();
        void Token(string t)
        {
            if (ids.TryAdd(t, vocab.Count)) vocab.Add(t);
        }
        foreach (string piece in pieces.Distinct())
        {
            foreach (char ch in piece) Token(ch.ToString());
            for (int k = 2; k <= piece.Length; k++)
            {
                string merged = piece[..k];
                if (ids.ContainsKey(merged)) continue;
                merges.Add(piece[..(k - 1)] + " " + piece[k - 1]);
                Token(merged);
            }
        }
        using (var s = File.Create(Path.Combine(dir, "tokenizer.json")))
        using (var w = new Utf8JsonWriter(s))
        {
            w.WriteStartObject();
            w.WriteString("version", "1.0");
            w.WriteStartArray("added_tokens");
            foreach (var (t, id) in new[] { ("<unk>", 0), ("</s>", 1) })
            {
                w.WriteStartObject();
                w.WriteNumber("id", id);
                w.WriteString("content", t);
                w.WriteBoolean("special", true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteNull("normalizer");
            w.WritePropertyName("pre_tokenizer");
            w.WriteRawValue("""{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true}""");
            w.WritePropertyName("decoder");
            w.WriteRawValue("""{"type":"ByteLevel"}""");
            w.WriteStartObject("model");
            w.WriteString("type", "BPE");
            w.WriteStartObject("vocab");
            for (int i = 0; i < vocab.Count; i++) w.WriteNumber(vocab[i], i);
            w.WriteEndObject();
            w.WriteStartArray("merges");
            foreach (var m in merges) w.WriteStringValue(m);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
        }
        File.WriteAllText(Path.Combine(dir, "tokenizer_config.json"), """{"add_bos_token": false, "add_eos_token": false, "eos_token": "</s>", "unk_token": "<unk>"}""");
        return vocab.Count;
    }
}
