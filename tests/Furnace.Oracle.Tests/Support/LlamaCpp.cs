// llama.cpp (through LLamaSharp's native bindings) as the reference engine: load a GGUF with an f32 KV cache
// and flash attention off (optionally with a GGUF LoRA adapter on the context), evaluate token ids, and return its logits.
using LLama;
using LLama.Common;
using LLama.Native;
using System.Text;

namespace Furnace.Oracle.Tests.Support;

public sealed class LlamaCpp : IDisposable
{
    private readonly LLamaWeights _weights;
    private readonly LLamaContext _ctx;

    /// <param name="lora">A GGUF LoRA adapter file applied to the context at scale 1 (llama_adapter_lora_init), or null.</param>
    public LlamaCpp(string path, int contextSize = 256, int threads = 2, string? lora = null)
    {
        var p = new ModelParams(path)
        {
            ContextSize = (uint)contextSize,
            GpuLayerCount = 0,
            Threads = threads,
            BatchSize = (uint)contextSize,
            UBatchSize = (uint)contextSize,
            TypeK = GGMLType.GGML_TYPE_F32,
            TypeV = GGMLType.GGML_TYPE_F32,
            FlashAttention = false,
        };
        _weights = LLamaWeights.LoadFromFile(p);
        _ctx = _weights.CreateContext(p);
        if (lora != null)
        {
            LoraAdapter adapter = _weights.NativeHandle.LoadLoraFromFile(lora);
            _ctx.NativeHandle.SetLoraAdapters([(adapter, 1f)]);
        }
        VocabSize = _weights.Vocab.Count;
    }

    public int VocabSize { get; }

    /// <summary>Logits (tokens.Length, vocab) of every position after evaluating tokens from position 0.</summary>
    public float[][] AllLogits(IReadOnlyList<int> tokens)
    {
        _ctx.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        for (int i = 0; i < tokens.Count; i++) batch.Add((LLamaToken)tokens[i], i, LLamaSeqId.Zero, true);
        var rc = _ctx.NativeHandle.Decode(batch);
        if (rc != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode failed: {rc}");
        var result = new float[tokens.Count][];
        for (int i = 0; i < tokens.Count; i++) result[i] = _ctx.NativeHandle.GetLogitsIth(i).ToArray();
        return result;
    }

    /// <summary>llama.cpp's tokenization (llama_tokenize, special tokens in the text not parsed); addSpecial adds BOS as the vocabulary wants.</summary>
    public int[] Tokenize(string text, bool addSpecial) =>
        [.. _weights.NativeHandle.Tokenize(text, addSpecial, false, Encoding.UTF8).Select(t => (int)t)];

    /// <summary>The BOS id when the vocabulary adds BOS (llama_vocab_get_add_bos), else null.</summary>
    public int? AddedBos => _weights.Vocab.ShouldAddBOS && _weights.Vocab.BOS is { } bos ? (int)bos : null;

    /// <summary>
    /// Logits (tokens.Count − from, vocab) of positions from… after evaluating tokens from position 0 in one batch, with
    /// outputs requested only there (as llama-perplexity flags batch.logits[i] = pos >= first).
    /// </summary>
    public float[][] LogitsFrom(IReadOnlyList<int> tokens, int from)
    {
        _ctx.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        for (int i = 0; i < tokens.Count; i++) batch.Add((LLamaToken)tokens[i], i, LLamaSeqId.Zero, i >= from);
        var rc = _ctx.NativeHandle.Decode(batch);
        if (rc != DecodeResult.Ok) throw new InvalidOperationException($"llama_decode failed: {rc}");
        var result = new float[tokens.Count - from][];
        for (int i = from; i < tokens.Count; i++) result[i - from] = _ctx.NativeHandle.GetLogitsIth(i).ToArray();
        return result;
    }

    /// <summary>Greedy continuation of a prompt, one token per decode call (as a chat engine runs).</summary>
    public List<int> Greedy(IReadOnlyList<int> prompt, int count)
    {
        _ctx.NativeHandle.MemoryClear(true);
        var batch = new LLamaBatch();
        for (int i = 0; i < prompt.Count; i++) batch.Add((LLamaToken)prompt[i], i, LLamaSeqId.Zero, i == prompt.Count - 1);
        if (_ctx.NativeHandle.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException("llama_decode failed");
        var output = new List<int>();
        int pos = prompt.Count;
        for (int n = 0; n < count; n++)
        {
            var logits = _ctx.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            int next = ArgMax(logits);
            output.Add(next);
            batch.Clear();
            batch.Add((LLamaToken)next, pos++, LLamaSeqId.Zero, true);
            if (_ctx.NativeHandle.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException("llama_decode failed");
        }
        return output;
    }

    /// <summary>Largest |ours − expected| over rows of logits: ours (rows, vocab) row-major against expected[row].</summary>
    public static double MaxAbsDiff(ReadOnlySpan<float> ours, IReadOnlyList<float[]> expected)
    {
        double max = 0;
        for (int i = 0; i < expected.Count; i++)
        {
            float[] row = expected[i];
            ReadOnlySpan<float> mine = ours.Slice(i * row.Length, row.Length);
            for (int v = 0; v < row.Length; v++) max = Math.Max(max, Math.Abs(mine[v] - row[v]));
        }
        return max;
    }

    /// <summary>Cosine similarity of two logit rows, in double.</summary>
    public static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++) { ab += a[i] * b[i]; aa += a[i] * a[i]; bb += b[i] * b[i]; }
        return ab / Math.Sqrt(aa * bb);
    }

    /// <summary>n seeded token ids in [3, vocab): clear of the low special ids.</summary>
    public static int[] RandomTokens(int n, int vocab, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => rng.Next(3, vocab)).ToArray();
    }

    public static int ArgMax(ReadOnlySpan<float> v)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++) if (v[i] > v[best]) best = i;
        return best;
    }

    public void Dispose()
    {
        _ctx.Dispose();
        _weights.Dispose();
    }
}
