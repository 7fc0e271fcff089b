// Importance-matrix statistics as llama.cpp's tools/imatrix gathers them (pinned to the llama.cpp bundled by LLamaSharp
// 0.30.0): calibration text is cut into chunks of n_ctx tokens (the first token of each replaced by BOS when the
// vocabulary adds one), each chunk runs through the decoder from an empty cache, and for every layer weight matrix the
// squares of each input column are summed over all rows that enter it (in_sum2, ne[0] values) while counts adds the rows.
// The output matrix is left out, as llama-imatrix does without --process-output. Sums are kept in double and stored f32.
using Furnace.Models.Llama;
using Furnace.Tensors;

namespace Furnace.Quantization;

public sealed class ImatrixCollector : ILlamaActivationObserver
{
    private readonly Dictionary<(int Layer, LlamaProjection P), (double[] Sums, long Count)> _stats = new();

    public void Observe(int layer, LlamaProjection projection, ReadOnlySpan<float> input, int rows)
    {
        int cols = input.Length / rows;
        if (!_stats.TryGetValue((layer, projection), out var e)) e = (new double[cols], 0);
        double[] sums = e.Sums;
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> x = input.Slice(r * cols, cols);
            for (int j = 0; j < cols; j++) sums[j] += (double)x[j] * x[j];
        }
        _stats[(layer, projection)] = (sums, e.Count + rows);
    }

    /// <summary>GGUF tensor name of a block's projection (llama.cpp's LLM_TN for the llama/qwen2 archs).</summary>
    public static string TensorName(int layer, LlamaProjection p) => $"blk.{layer}." + p switch
    {
        LlamaProjection.Q => "attn_q",
        LlamaProjection.K => "attn_k",
        LlamaProjection.V => "attn_v",
        LlamaProjection.Output => "attn_output",
        LlamaProjection.Gate => "ffn_gate",
        LlamaProjection.Up => "ffn_up",
        LlamaProjection.Down => "ffn_down",
        _ => throw new ArgumentOutOfRangeException(nameof(p)),
    } + ".weight";

    /// <summary>Per tensor name: in_sum2 (ne0) and counts (1), as ImportanceMatrix.WriteGguf stores them.</summary>
    public Dictionary<string, (float[] Sums, float[] Counts)> Stats() => _stats.ToDictionary(
        kv => TensorName(kv.Key.Layer, kv.Key.P),
        kv => (kv.Value.Sums.Select(v => (float)v).ToArray(), new[] { (float)kv.Value.Count }));

    /// <summary>
    /// Runs the chunks of tokens (n_ctx each, at most maxChunks) through model with this collector attached;
    /// returns the chunks processed. progress gets (chunks done, chunks).
    /// </summary>
    public int Run(LlamaModel model, ReadOnlySpan<int> tokens, int? bos, int nCtx, int? maxChunks, KernelContext ctx, Action<int, int>? progress = null)
    {
        if (nCtx < 2) throw new FurnaceException($"--ctx {nCtx}: give at least 2");
        if (nCtx > model.Config.MaxPositions) throw new FurnaceException($"--ctx {nCtx} is larger than the model's context length {model.Config.MaxPositions}");
        int nChunk = Math.Min(maxChunks ?? int.MaxValue, tokens.Length / nCtx);
        if (nChunk < 1) throw new FurnaceException($"the text has {tokens.Length} tokens: need at least --ctx {nCtx} for one chunk");
        var state = model.NewState(nCtx, Math.Min(nCtx, 512));
        var chunk = new int[nCtx];
        var previous = model.Observer;
        model.Observer = this;
        try
        {
            for (int c = 0; c < nChunk; c++)
            {
                tokens.Slice(c * nCtx, nCtx).CopyTo(chunk);
                if (bos is int b) chunk[0] = b;
                state.Reset();
                for (int start = 0; start < nCtx; start += 512)
                    model.Forward(chunk.AsSpan(start, Math.Min(512, nCtx - start)), state, ctx);
                progress?.Invoke(c + 1, nChunk);
            }
        }
        finally
        {
            model.Observer = previous;
        }
        return nChunk;
    }
}
