// The synthetic vocabulary our random-weight test models carry tokenizes as llama.cpp tokenizes it, so tests that
// go through text (generate, convert) exercise both engines on the same ids.
using System.Text;
using Furnace.Formats.Gguf;
using Furnace.Formats.Tokenizers;
using Furnace.Models.Llama;
using Furnace.Tensors;
using LLama;
using LLama.Common;

namespace Furnace.Oracle.Tests.Tokenizers;

public sealed class SyntheticVocabOracleTests
{
    [Theory]
    [InlineData("hello world")]
    [InlineData("The quick brown fox, 42 times!")]
    [InlineData("  spaces\tand\nnewlines ")]
    [InlineData("unicode: 世界 🚀 Führer")]
    public void Encode_SyntheticVocab_MatchesLlamaCpp(string text)
    {
        using var dir = new TempDir();
        string path = dir.File("m.gguf");
        RandomLlama.WriteGguf(path, LlamaConfig.Preset("test-tiny"), DType.F32, seed: 1);
        using var weights = LLamaWeights.LoadFromFile(new ModelParams(path) { VocabOnly = true, GpuLayerCount = 0 });
        using var f = GgufFile.Open(path);
        var ours = Tokenizer.FromGguf(f);
        int[] expected = [.. weights.NativeHandle.Tokenize(text, true, false, Encoding.UTF8).Select(t => (int)t)];
        Assert.Equal(expected, ours.Encode(text, addSpecial: true, parseSpecial: false));
    }
}
