// Reads llama.cpp's tokenizer test vectors (tests/test-tokenizer-0.cpp): ggml-vocab-NAME.gguf with .inp (cases
// separated by "\n__ggml_vocab_test__\n") and .out (one line of space-separated ids per case).
using System.Text;
using Furnace.Tests.Support;

namespace Furnace.Tests.Tokenizers;

public static class LlamaCppVocabFixtures
{
    public static string Dir => SharedPaths.Fixtures("tokenizers");

    /// <summary>Vocab files that have both a .gguf and its test vectors.</summary>
    public static IEnumerable<string> VocabsWithVectors() =>
        Directory.GetFiles(Dir, "ggml-vocab-*.gguf")
            .Where(p => File.Exists(p + ".inp") && File.Exists(p + ".out"))
            .Select(Path.GetFileName)
            .OfType<string>()
            .Order(StringComparer.Ordinal);

    public static IEnumerable<string> AllVocabs() =>
        Directory.GetFiles(Dir, "ggml-vocab-*.gguf").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);

    public static List<(string Text, int[] Ids)> Cases(string vocabFile)
    {
        string path = Path.Combine(Dir, vocabFile);
        string raw = File.ReadAllText(path + ".inp", Encoding.UTF8);
        const string sep = "\n__ggml_vocab_test__\n";
        var inputs = new List<string>();
        int pos = 0;
        // exactly test-tokenizer-0.cpp's loop: a trailing separator does not start an empty case
        while (pos < raw.Length)
        {
            int next = raw.IndexOf(sep, pos, StringComparison.Ordinal);
            if (next < 0)
            {
                inputs.Add(raw[pos..]);
                break;
            }
            inputs.Add(raw[pos..next]);
            pos = next + sep.Length;
        }
        var outputs = File.ReadAllLines(path + ".out", Encoding.UTF8);
        if (inputs.Count != outputs.Length) throw new InvalidDataException($"{vocabFile}: {inputs.Count} inputs but {outputs.Length} outputs");
        return [.. inputs.Zip(outputs, (i, o) => (i, o.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray()))];
    }
}
