// Furnace's GGUF tokenizers against llama.cpp itself (LLamaSharp 0.30.0 loading each fixture vocabulary in vocab-only
// mode): the same ids for a few hundred seeded random strings, the same bytes for every token piece, the same
// special-token ids and end-of-generation set.
using System.Text;
using Furnace.Formats.Gguf;
using Furnace.Formats.Tokenizers;
using LLama;
using LLama.Common;
using LLama.Native;

namespace Furnace.Oracle.Tests.Tokenizers;

public sealed class LlamaCppTokenizerOracleTests
{
    private const int Strings = 300;

    public static TheoryData<string> Vocabs()
    {
        var data = new TheoryData<string>();
        foreach (var p in Directory.GetFiles(FixtureDir, "ggml-vocab-*.gguf").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(p));
        return data;
    }

    private static string FixtureDir { get; } = FindFixtures();

    private static string FindFixtures()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "fixtures", "tokenizers");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException("shared/fixtures/tokenizers not found above " + AppContext.BaseDirectory);
    }

    private static LLamaWeights LoadVocab(string path) => LLamaWeights.LoadFromFile(new ModelParams(path) { VocabOnly = true, GpuLayerCount = 0 });

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void RandomStringsTokenizeLikeLlamaCpp(string vocab)
    {
        string path = Path.Combine(FixtureDir, vocab);
        using var weights = LoadVocab(path);
        using var f = GgufFile.Open(path);
        var ours = Tokenizer.FromGguf(f);
        var rng = new Random(1234);
        var failures = new List<string>();
        for (int i = 0; i < Strings; i++)
        {
            string text = RandomText.Next(rng);
            int[] expected = [.. weights.NativeHandle.Tokenize(text, false, false, Encoding.UTF8).Select(t => (int)t)];
            int[] got = ours.Encode(text, addSpecial: false, parseSpecial: false);
            if (!got.AsSpan().SequenceEqual(expected) && failures.Count < 10)
                failures.Add($"'{Escape(text)}'\n   llama.cpp {string.Join(' ', expected)}\n   furnace   {string.Join(' ', got)}");
        }
        Assert.True(failures.Count == 0, $"{vocab}: differs from llama.cpp\n" + string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void AddSpecialAndParseSpecialLikeLlamaCpp(string vocab)
    {
        string path = Path.Combine(FixtureDir, vocab);
        using var weights = LoadVocab(path);
        using var f = GgufFile.Open(path);
        var ours = Tokenizer.FromGguf(f);
        var rng = new Random(99);
        for (int i = 0; i < 100; i++)
        {
            string text = RandomText.Next(rng);
            int[] expected = [.. weights.NativeHandle.Tokenize(text, true, true, Encoding.UTF8).Select(t => (int)t)];
            Assert.Equal(expected, ours.Encode(text, addSpecial: true, parseSpecial: true));
        }
    }

    [Theory]
    [MemberData(nameof(Vocabs))]
    public void TokenPiecesAndSpecialIdsMatchLlamaCpp(string vocab)
    {
        string path = Path.Combine(FixtureDir, vocab);
        using var weights = LoadVocab(path);
        using var f = GgufFile.Open(path);
        var ours = Tokenizer.FromGguf(f);
        var v = weights.NativeHandle.Vocab;
        Assert.Equal(v.Count, ours.VocabSize);
        Assert.Equal(Id(v.BOS), ours.BosId);
        Assert.Equal(Id(v.EOS), ours.EosId);
        Assert.Equal(v.ShouldAddBOS, ours.AddBos);

        var buf = new byte[1024];
        var eog = new HashSet<int>();
        for (int id = 0; id < ours.VocabSize; id++)
        {
            int n = (int)weights.NativeHandle.TokenToSpan(id, buf, 0, true);
            Assert.True(buf.AsSpan(0, n).SequenceEqual(ours.TokenBytes(id)), $"token {id} '{ours.TokenText(id)}' piece differs");
            if (((LLamaToken)id).IsEndOfGeneration(v)) eog.Add(id);
        }
        Assert.Equal(eog.Order(), ours.EndOfGenerationIds.Order());
    }

    private static int? Id(LLamaToken? t) => t is { } x && (int)x >= 0 ? (int)x : null;

    private static string Escape(string s) => s.Replace("\n", "\\n").Replace("\t", "\\t").Replace("\r", "\\r");
}
