// Test support: a tiny random llama GGUF with the synthetic byte-fallback vocabulary (RandomLlama.WriteGguf) and a
// seeded English-like text that tokenizes to a few hundred tokens: what the text-perplexity tests score.
using Furnace.Models.Llama;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Evaluation.Perplexity;

internal static class PerplexityText
{
    public static LlamaConfig Config => new LlamaConfig
    {
        Architecture = "llama", Dim = 64, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 16, FfnDim = 96,
        VocabSize = 320, MaxPositions = 128, RmsEps = 1e-5f, RopeTheta = 10000f,
    }.Validated("test");

    public static string WriteModel(TempDir dir, DType type, int seed = 7)
    {
        string path = dir.File($"m-{type}.gguf");
        RandomLlama.WriteGguf(path, Config, type, seed);
        return path;
    }

    private static readonly string[] Words =
        ["the", "a", "cat", "dog", "sat", "on", "mat", "red", "blue", "ran", "to", "park", "and", "then", "slept", "under", "tree", "big", "small", "house"];

    /// <summary>Words drawn with a seeded RNG, sentences of 4–9 words.</summary>
    public static string Text(int words, int seed = 1)
    {
        var rng = new Random(seed);
        var sb = new System.Text.StringBuilder();
        for (int i = 0; i < words; i++)
        {
            if (i > 0) sb.Append(rng.Next(6) == 0 ? ". " : " ");
            sb.Append(Words[rng.Next(Words.Length)]);
        }
        return sb.Append('.').ToString();
    }
}
