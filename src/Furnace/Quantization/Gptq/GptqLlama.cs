// GPTQ over a Llama-family decoder, layer by layer (Frantar et al. 2022, Section 5 setup; reference: IST-DASLab/gptq
// llama.py llama_sequential): the calibration sequences' residual stream enters layer i as produced by the already
// quantized layers 0..i−1; one pass through layer i with its original weights collects the four Hessians (Wq, Wk, Wv
// share the input RMSNorm(x); WGate, WUp share RMSNorm(x + attn); Wo and WDown have their own), every chosen linear is
// quantized, and a second pass with the quantized weights (Ŵ in f32, the values the GGUF blocks decode to) produces
// the inputs of layer i + 1. The model's weights are restored on return.
using Furnace.Models.Llama;
using Furnace.Tensors;

namespace Furnace.Quantization.Gptq;

public static class GptqLlama
{
    /// <summary>
    /// Quantizes the layer linears of <paramref name="model"/> with GPTQ. <paramref name="typeFor"/> maps a tensor's
    /// GGUF name (blk.{i}.attn_q.weight, …) to its GPTQ type, or null to leave it out. Rows are in the model's order
    /// (a model loaded from a llama-arch GGUF has llama.cpp's permuted Q/K rows, one loaded from Hugging Face not).
    /// <paramref name="inputs"/> are the calibration sequences' input embeddings, each (n, dim) with n ≤ the model's
    /// context; they are overwritten (they end as the last layer's output). Returns the results by GGUF name;
    /// <paramref name="solved"/> sees each original W (rows, cols), its result and the Hessian (cols, cols) it was solved with (for error reports).
    /// </summary>
    public static Dictionary<string, GptqResult> Quantize(LlamaModel model, IReadOnlyList<float[]> inputs, Func<string, DType?> typeFor,
        GptqOptions options, KernelContext ctx, Action<string>? progress = null, Action<string, float[], GptqResult, double[]>? solved = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        options.Validate();
        if (inputs.Count == 0) throw new FurnaceException("GPTQ needs at least one calibration sequence");
        LlamaConfig c = model.Config;
        int longest = 0;
        foreach (float[] x in inputs)
        {
            if (x.Length == 0 || x.Length % c.Dim != 0) throw new ArgumentException($"a calibration sequence holds {x.Length} floats, not a positive multiple of dim {c.Dim}");
            longest = Math.Max(longest, x.Length / c.Dim);
        }
        LlamaState state = model.NewState(longest, longest);
        var results = new Dictionary<string, GptqResult>(StringComparer.Ordinal);
        LlamaLayerWeights[] original = (LlamaLayerWeights[])model.Weights.Layers.Clone();
        ILlamaActivationObserver? observer = model.Observer; // the Hessian passes borrow the model's observer slot
        var buffers = new List<NativeBuffer>();
        try
        {
            for (int l = 0; l < c.Layers; l++)
            {
                LlamaLayerWeights w = original[l];
                var probe = new HessianProbe(l, c);
                model.Observer = probe;
                try
                {
                    foreach (float[] x in inputs) Run(model, l, state, x, ctx);
                }
                finally
                {
                    model.Observer = observer;
                }

                string p = $"blk.{l}.";
                var quantized = new Dictionary<string, GptqResult>();
                void Solve(string name, WeightMatrix m, HessianAccumulator h)
                {
                    if (typeFor(p + name) is not { } t) return;
                    progress?.Invoke($"{p}{name} ({m.Rows}x{m.Cols}, {DTypes.Name(t)}, {h.Count} calibration rows)");
                    float[] wf = ReadFloats(m);
                    double[] hessian = h.Hessian();
                    var r = GptqSolver.Quantize(wf, m.Rows, m.Cols, hessian, t, options);
                    solved?.Invoke(p + name, wf, r, hessian);
                    quantized[name] = r;
                    results[p + name] = r;
                }
                Solve("attn_q.weight", w.Wq, probe.Attention);
                Solve("attn_k.weight", w.Wk, probe.Attention);
                Solve("attn_v.weight", w.Wv, probe.Attention);
                Solve("attn_output.weight", w.Wo, probe.AttentionOutput);
                Solve("ffn_gate.weight", w.WGate, probe.Ffn);
                Solve("ffn_up.weight", w.WUp, probe.Ffn);
                Solve("ffn_down.weight", w.WDown, probe.FfnDown);

                WeightMatrix With(string name, WeightMatrix m)
                {
                    if (!quantized.TryGetValue(name, out GptqResult? r)) return m;
                    var buf = NativeBuffer.FromFloats(r.Dequantized, r.Rows, r.Cols, DType.F32);
                    buffers.Add(buf);
                    return buf.AsMatrix(r.Rows, r.Cols, DType.F32);
                }
                model.Weights.Layers[l] = new LlamaLayerWeights
                {
                    AttnNorm = w.AttnNorm,
                    Wq = With("attn_q.weight", w.Wq),
                    Wk = With("attn_k.weight", w.Wk),
                    Wv = With("attn_v.weight", w.Wv),
                    Wo = With("attn_output.weight", w.Wo),
                    Bq = w.Bq,
                    Bk = w.Bk,
                    Bv = w.Bv,
                    FfnNorm = w.FfnNorm,
                    WGate = With("ffn_gate.weight", w.WGate),
                    WUp = With("ffn_up.weight", w.WUp),
                    WDown = With("ffn_down.weight", w.WDown),
                };
                // the next layer's inputs come from this layer with its quantized weights
                foreach (float[] x in inputs)
                {
                    Run(model, l, state, x, ctx);
                    state.X.AsSpan(0, x.Length).CopyTo(x);
                }
            }
        }
        finally
        {
            original.CopyTo(model.Weights.Layers, 0);
            foreach (var b in buffers) b.Dispose();
        }
        return results;
    }

    /// <summary>The float values of a row-major weight matrix (rows, cols), decoded from its stored type.</summary>
    public static float[] ReadFloats(WeightMatrix m)
    {
        var wf = new float[(long)m.Rows * m.Cols];
        for (int r = 0; r < m.Rows; r++) Dequantize.Row(wf.AsSpan(r * m.Cols, m.Cols), m, r);
        return wf;
    }

    private static void Run(LlamaModel model, int l, LlamaState state, float[] x, KernelContext ctx)
    {
        x.CopyTo(state.X, 0);
        model.ForwardLayer(l, state, x.Length / model.Config.Dim, ctx);
    }

    // The four distinct inputs of a layer's seven matmuls: Q (= K's = V's), Output, Gate (= Up's), Down.
    private sealed class HessianProbe(int layer, LlamaConfig c) : ILlamaActivationObserver
    {
        public HessianAccumulator Attention { get; } = new(c.Dim);
        public HessianAccumulator AttentionOutput { get; } = new(c.QDim);
        public HessianAccumulator Ffn { get; } = new(c.Dim);
        public HessianAccumulator FfnDown { get; } = new(c.FfnDim);

        public void Observe(int l, LlamaProjection projection, ReadOnlySpan<float> x, int n)
        {
            if (l != layer) return;
            HessianAccumulator? h = projection switch
            {
                LlamaProjection.Q => Attention,
                LlamaProjection.Output => AttentionOutput,
                LlamaProjection.Gate => Ffn,
                LlamaProjection.Down => FfnDown,
                _ => null, // K, V, Up repeat Q's and Gate's input
            };
            h?.Add(x, n);
        }
    }
}
