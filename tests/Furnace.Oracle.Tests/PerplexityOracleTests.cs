// Furnace's text perplexity (TextPerplexity) against llama.cpp's perplexity method run here over LLamaSharp's
// low-level decode API, on tiny random GGUF files with the synthetic byte-fallback vocabulary. The loop below is
// written from the method of tools/perplexity/perplexity.cpp, perplexity() (ggml-org/llama.cpp @
// 050fc7f32de16858ac667d775b43a51ed8976e6f): tokenize with add_special; non-overlapping chunks of n_ctx tokens from
// an empty KV cache, the chunk's first token replaced by BOS; outputs for positions ≥ n_ctx/2; the logits at
// positions n_ctx/2 … n_ctx − 2 score the next token with log-softmax (float max, double Σ expf), summed in double.
using Furnace.Evaluation.Perplexity;
using Furnace.Formats.Gguf;
using Furnace.Formats.Tokenizers;
using Furnace.Models.Llama;
using Furnace.Oracle.Tests.Support;
using Furnace.Tensors;
using Xunit.Abstractions;

namespace Furnace.Oracle.Tests;

public sealed class PerplexityOracleTests(ITestOutputHelper output)
{
    private const int Context = 64;

    private static string Text(int words, int seed)
    {
        string[] vocab = ["the", "a", "cat", "dog", "sat", "on", "mat", "red", "blue", "ran", "to", "park", "and", "then", "slept", "under", "tree", "big", "small", "house"];
        var rng = new Random(seed);
        return string.Join(' ', Enumerable.Range(0, words).Select(_ => vocab[rng.Next(vocab.Length)])) + ".";
    }

    // llama.cpp's perplexity(): returns (ppl, σ) from llama.cpp's logits
    private static (double Ppl, double Sigma, int Count) LlamaCppMethod(LlamaCpp cpp, int[] tokens, int nCtx)
    {
        int nChunk = tokens.Length / nCtx, first = nCtx / 2;
        int? bos = cpp.AddedBos;
        double nll = 0, nll2 = 0;
        int count = 0;
        for (int i = 0; i < nChunk; i++)
        {
            int[] chunk = tokens[(i * nCtx)..((i + 1) * nCtx)];
            if (bos is int b) chunk[0] = b;
            float[][] logits = cpp.LogitsFrom(chunk, first); // rows for positions first … n_ctx − 1
            for (int k = 0; k < nCtx - 1 - first; k++)
            {
                float[] row = logits[k];
                float max = row.Max();
                double sum = 0;
                foreach (float l in row) sum += MathF.Exp(l - max);
                double v = -(row[tokens[i * nCtx + first + k + 1]] - max - Math.Log(sum));
                nll += v;
                nll2 += v * v;
                count++;
            }
        }
        double mean = nll / count, ppl = Math.Exp(mean);
        return (ppl, Math.Sqrt((nll2 / count - mean * mean) / (count - 1)) * ppl, count);
    }

    [Theory]
    [InlineData(DType.F32, 1e-6)] // measured 8.7e-9
    [InlineData(DType.Q8_0, 2e-3)] // measured 4.0e-5: llama.cpp also quantizes activations to Q8_0
    public void TextPerplexity_TinyGguf_MatchesLlamaCppMethod(DType type, double relTolerance)
    {
        using var dir = new TempDir();
        var c = LlamaLogitsOracleTests.Tiny("llama", 4, 2, 10000f, 1e-5f);
        string path = dir.File("m.gguf");
        RandomLlama.WriteGguf(path, c, type, seed: 9);
        string text = Text(150, seed: 4);

        var tokenizer = Tokenizer.Open(path);
        int[] ours = TextPerplexity.Tokenize(tokenizer, text);
        (double Ppl, double Sigma, int Count) expected;
        using (var cpp = new LlamaCpp(path, contextSize: Context))
        {
            int[] theirs = cpp.Tokenize(text, addSpecial: true);
            Assert.Equal(theirs.Length, ours.Length);
            Assert.Equal(theirs, ours);
            Assert.Equal(cpp.AddedBos, TextPerplexity.ChunkBos(tokenizer));
            Assert.True(ours.Length >= 4 * Context, $"{ours.Length} tokens: too few for 4 chunks of {Context}");
            expected = LlamaCppMethod(cpp, theirs, Context);
        }

        using var model = LlamaModel.FromGguf(GgufFile.Open(path));
        using var ctx = new KernelContext(2);
        PerplexityResult res = TextPerplexity.Run(model, ours, TextPerplexity.ChunkBos(tokenizer), new TextPerplexityOptions { Context = Context }, ctx);
        double rel = Math.Abs(res.Ppl / expected.Ppl - 1);
        output.WriteLine($"{type}: {ours.Length} tokens, {res.Chunks} chunks; PPL ours {res.Ppl:F6} ± {res.PplUncertainty:F6}, llama.cpp {expected.Ppl:F6} ± {expected.Sigma:F6}; rel diff {rel:E2}");
        Assert.Equal(expected.Count, res.Tokens);
        Assert.True(rel < relTolerance, $"PPL {res.Ppl} vs llama.cpp {expected.Ppl}: relative difference {rel:E2} (tolerance {relTolerance:E0})");
        Assert.True(Math.Abs(res.PplUncertainty / expected.Sigma - 1) < 100 * relTolerance, $"σ {res.PplUncertainty} vs {expected.Sigma}");
    }
}
