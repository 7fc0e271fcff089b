// Seeded random-weight Llama checkpoints in the real formats: for tests (tiny shapes compared against
// llama.cpp and PyTorch) and benchmarks (real model shapes without downloading weights). Every tensor is a pure
// function of (seed, name), so a GGUF file and an HF directory made from the same seed hold the same model.
using Furnace.Formats.Gguf;
using Furnace.Formats.SafeTensors;
using Furnace.IO;
using Furnace.Tensors;

namespace Furnace.Models.Llama;

public static class RandomLlama
{
    /// <summary>Values of the named HF tensor: norms near 1, biases and matrices ~U(-a, a) with a = sqrt(3/fan_in)·0.5.</summary>
    public static float[] Tensor(LlamaConfig c, string hfName, int seed)
    {
        var t = LlamaTensorNames.All(c).FirstOrDefault(x => x.Hf == hfName)
            ?? throw new ArgumentException($"no tensor '{hfName}' in this config");
        long n = t.Shape.Aggregate(1L, (a, b) => a * b);
        bool norm = hfName.EndsWith("norm.weight", StringComparison.Ordinal);
        bool bias = hfName.EndsWith(".bias", StringComparison.Ordinal);
        float a = norm ? 0.2f : bias ? 0.1f : 0.5f * MathF.Sqrt(3f / t.Shape[^1]);
        if (hfName == "model.embed_tokens.weight") a = 1f;
        return SeededUniform.Values(n, seed, hfName, norm ? 1f : 0f, a);
    }

    public static void WriteGguf(string path, LlamaConfig c, DType type, int seed) =>
        LlamaGgufExport.Write(path, c, name => Tensor(c, name, seed), type, SyntheticVocab(c.VocabSize), "furnace-random");

    /// <summary>The same model as a Hugging Face directory: config.json + safetensors (split in two shards with an index when shards = 2).</summary>
    public static void WriteHuggingFace(string dir, LlamaConfig c, DType type, int seed, int shards = 1)
    {
        if (shards is not (1 or 2)) throw new ArgumentException("shards must be 1 or 2");
        Directory.CreateDirectory(dir);
        AtomicFile.Write(Path.Combine(dir, "config.json"), s => s.Write(c.ToHfConfigJson()));
        var names = LlamaTensorNames.All(c).ToList();
        if (shards == 1)
        {
            var w = new SafeTensorsWriter();
            foreach (var t in names) w.Add(t.Hf, t.Shape, Tensor(c, t.Hf, seed), t.Shape.Length == 2 ? type : DType.F32);
            w.Write(Path.Combine(dir, "model.safetensors"));
            return;
        }
        var map = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int part = 0; part < 2; part++)
        {
            string file = $"model-{part + 1:D5}-of-00002.safetensors";
            var w = new SafeTensorsWriter();
            for (int i = part; i < names.Count; i += 2)
            {
                var t = names[i];
                w.Add(t.Hf, t.Shape, Tensor(c, t.Hf, seed), t.Shape.Length == 2 ? type : DType.F32);
                map[t.Hf] = file;
            }
            w.Write(Path.Combine(dir, file));
        }
        AtomicFile.Write(Path.Combine(dir, "model.safetensors.index.json"), s =>
        {
            using var j = new System.Text.Json.Utf8JsonWriter(s, new System.Text.Json.JsonWriterOptions { Indented = true });
            j.WriteStartObject();
            j.WriteStartObject("metadata");
            j.WriteEndObject();
            j.WriteStartObject("weight_map");
            foreach (var (k, v) in map) j.WriteString(k, v);
            j.WriteEndObject();
            j.WriteEndObject();
        });
    }


    /// <summary>
    /// A SentencePiece-style (tokenizer.ggml.model = llama) vocabulary of the given size: unk/bos/eos, the 256
    /// byte-fallback tokens, then "▁", printable ASCII, and "▁"-prefixed letters and letter pairs.
    /// </summary>
    public static IEnumerable<KeyValuePair<string, GgufValue>> SyntheticVocab(int size)
    {
        if (size < 259 + 1) throw new ArgumentException($"vocab size {size} is too small for a byte-fallback vocabulary (>= 260)");
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        var types = new List<int> { 2, 3, 3 };
        for (int b = 0; b < 256; b++) { tokens.Add($"<0x{b:X2}>"); types.Add(6); }
        var pieces = new List<string> { "\u2581" };
        for (char ch = '!'; ch <= '~'; ch++) pieces.Add(ch.ToString());
        for (char ch = 'a'; ch <= 'z'; ch++) pieces.Add("\u2581" + ch);
        for (char x = 'a'; x <= 'z'; x++)
            for (char y = 'a'; y <= 'z'; y++) pieces.Add(x.ToString() + y);
        for (char x = 'a'; x <= 'z'; x++)
            for (char y = 'a'; y <= 'z'; y++) pieces.Add("\u2581" + x + y);
        for (int i = 0; tokens.Count < size; i++)
        {
            tokens.Add(i < pieces.Count ? pieces[i] : $"\u2581w{i}");
            types.Add(1);
        }
        var scores = new float[size];
        for (int i = 0; i < size; i++) scores[i] = types[i] == 1 ? -i : 0f;
        return new Dictionary<string, GgufValue>
        {
            ["tokenizer.ggml.model"] = GgufValue.Of("llama"),
            ["tokenizer.ggml.tokens"] = GgufValue.Of(tokens.ToArray()),
            ["tokenizer.ggml.scores"] = GgufValue.Of(scores),
            ["tokenizer.ggml.token_type"] = GgufValue.Of(types.ToArray()),
            ["tokenizer.ggml.unknown_token_id"] = GgufValue.Of(0u),
            ["tokenizer.ggml.bos_token_id"] = GgufValue.Of(1u),
            ["tokenizer.ggml.eos_token_id"] = GgufValue.Of(2u),
            ["tokenizer.ggml.add_bos_token"] = GgufValue.Of(true),
        };
    }
}
