// The Llama-family decoder forward pass (Touvron et al. 2023; HF modeling_llama / modeling_qwen2):
//   x = embed(tokens)
//   per layer: x += Wo · attn(rope(Wq·rms(x)), rope(Wk·rms(x)), Wv·rms(x));  x += Wdown · (silu(Wgate·rms(x)) ⊙ Wup·rms(x))
//   logits = Wout · rms(x)
// Tokens are processed in chunks of up to state.MaxBatch (prefill GEMM), one at a time when decoding (GEMV), or
// one token of each of several sequences per step when decoding a batch (ForwardBatch: GEMM over the sequences).
using Furnace.Formats.Gguf;
using Furnace.Formats.Weights;
using Furnace.Models.Lora;
using Furnace.Tensors;

namespace Furnace.Models.Llama;

public sealed class LlamaModel : IDecoder
{
    private readonly ITensorSource? _owned;
    private readonly PackedWeights? _packed;

    public LlamaModel(LlamaConfig config, LlamaWeights weights, RopeStyle ropeStyle, ITensorSource? owned = null, PackedWeights? packed = null)
    {
        _owned = owned;
        _packed = packed;
        Config = config;
        Weights = weights;
        RopeStyle = ropeStyle;
        float[]? ff = weights.RopeFreqFactors;
        if (ff == null && config.RopeScaling is { } s)
            ff = RopeTable.Llama3FreqFactors(config.HeadDim, config.RopeTheta, s.Factor, s.LowFreqFactor, s.HighFreqFactor, s.OriginalMaxPositions);
        _ropeFreqFactors = ff;
    }

    private readonly float[]? _ropeFreqFactors;
    private RopeTable? _rope;

    public LlamaConfig Config { get; }

    public LlamaWeights Weights { get; }

    /// <summary>Interleaved for llama.cpp-permuted GGUF llama weights, half-split for HF weights and qwen2.</summary>
    public RopeStyle RopeStyle { get; }

    /// <summary>Sees the input rows of every layer matmul before it runs (importance-matrix statistics); null = none.</summary>
    public ILlamaActivationObserver? Observer { get; set; }

    /// <summary>Loads the decoder of a GGUF file (arch llama or qwen2); the model owns and disposes the file.</summary>
    public static LlamaModel FromGguf(GgufFile f) => FromGguf(f, null);

    /// <summary>
    /// As FromGguf, with a LoRA adapter merged at load (W' = W + loraScale·scale·B·A; see LoraMerge), when given.
    /// </summary>
    public static LlamaModel FromGguf(GgufFile f, LoraAdapter? lora, float loraScale = 1f)
    {
        LlamaConfig c = LlamaConfig.FromGguf(f);
        var packed = new PackedWeights();
        try
        {
            var weights = lora == null
                ? LlamaWeights.Load(new WeightLoader(f), c, CheckpointNaming.Gguf, packed)
                : LoraMerge.Apply(LlamaWeights.Load(new WeightLoader(f), c, CheckpointNaming.Gguf), c, lora, packed,
                    ggufRowOrder: c.Architecture == "llama", loraScale, pack: true, source: f.Path);
            // llama.cpp's llama arch expects Q/K rows permuted for adjacent-pair rotation; qwen2 uses NEOX (half split).
            return new LlamaModel(c, weights, c.Architecture == "llama" ? RopeStyle.Interleaved : RopeStyle.HalfSplit, f, packed);
        }
        catch
        {
            packed.Dispose();
            throw;
        }
    }

    /// <summary>Bytes of repacked weight copies this model owns (Q8_0/Q4_0 in Interleaved8, Q4_K/Q5_K/Q6_K in Interleaved16).</summary>
    public long PackedBytes => _packed?.Bytes ?? 0;

    public void Dispose()
    {
        _packed?.Dispose();
        _owned?.Dispose();
    }

    /// <summary>A rotary table for positions [0, positions) with this model's theta, scaling and frequency factors.</summary>
    public RopeTable NewRopeTable(int positions) =>
        new(Config.HeadDim, positions, Config.RopeTheta, _ropeFreqFactors, 1f / Config.RopeLinearFactor);

    string IDecoder.Architecture => Config.Architecture;
    int IDecoder.Dim => Config.Dim;
    int IDecoder.Layers => Config.Layers;
    int IDecoder.VocabSize => Config.VocabSize;
    int IDecoder.MaxPositions => Config.MaxPositions;
    long IDecoder.ParameterCount => Config.ParameterCount;

    IDecoderState IDecoder.NewDecoderState(int contextLength, int maxBatch) => NewState(contextLength, maxBatch);

    void IDecoder.Forward(ReadOnlySpan<int> tokens, IDecoderState state, KernelContext ctx, bool allLogits) =>
        Forward(tokens, (LlamaState)state, ctx, allLogits);

    void IDecoder.ForwardEmbeddings(ReadOnlySpan<float> x, IDecoderState state, KernelContext ctx, bool allLogits) =>
        ForwardEmbeddings(x, (LlamaState)state, ctx, allLogits);

    public LlamaState NewState(int contextLength, int maxBatch = 64)
    {
        if (contextLength > Config.MaxPositions * 8)
            throw new FurnaceException($"context length {contextLength} is far beyond the model's {Config.MaxPositions}");
        var rope = _rope;
        if (rope == null || rope.MaxPositions < contextLength)
            _rope = NewRopeTable(contextLength);
        return new LlamaState(Config, contextLength, maxBatch);
    }

    /// <summary>
    /// Evaluates tokens at positions state.Position.. and appends them to the KV cache. Writes logits of the last
    /// token to state.Logits[0..vocab), or of every token (row i for tokens[i]) when allLogits is set, in which
    /// case tokens.Length must not exceed state.MaxBatch.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, LlamaState state, KernelContext ctx, bool allLogits = false)
    {
        if (tokens.IsEmpty) throw new ArgumentException("no tokens to evaluate");
        if (state.Position + tokens.Length > state.ContextLength)
            throw new FurnaceException($"{state.Position + tokens.Length} tokens exceed the context length {state.ContextLength}");
        if (allLogits && tokens.Length > state.MaxBatch)
            throw new ArgumentException($"all logits of {tokens.Length} tokens need a batch of at least that size (have {state.MaxBatch})");
        foreach (int t in tokens)
        {
            if ((uint)t >= (uint)Config.VocabSize) throw new FurnaceException($"token id {t} is outside the vocabulary [0, {Config.VocabSize})");
        }
        int dim = Config.Dim;
        for (int start = 0; start < tokens.Length; start += state.MaxBatch)
        {
            int n = Math.Min(state.MaxBatch, tokens.Length - start);
            bool last = start + n == tokens.Length;
            Embed(tokens.Slice(start, n), state.X.AsSpan(0, n * dim));
            ForwardChunk(n, state, ctx, last ? (allLogits ? n : 1) : 0);
        }
    }

    /// <summary>
    /// As Forward, from input embeddings x (n, dim) instead of token ids: the entry point for vision-language models,
    /// which splice projected image features between token embeddings.
    /// </summary>
    public void ForwardEmbeddings(ReadOnlySpan<float> x, LlamaState state, KernelContext ctx, bool allLogits = false)
    {
        int dim = Config.Dim;
        if (x.IsEmpty || x.Length % dim != 0) throw new ArgumentException($"embeddings hold {x.Length} floats, not a multiple of dim {dim}");
        int total = x.Length / dim;
        if (state.Position + total > state.ContextLength)
            throw new FurnaceException($"{state.Position + total} tokens exceed the context length {state.ContextLength}");
        if (allLogits && total > state.MaxBatch)
            throw new ArgumentException($"all logits of {total} positions need a batch of at least that size (have {state.MaxBatch})");
        for (int start = 0; start < total; start += state.MaxBatch)
        {
            int n = Math.Min(state.MaxBatch, total - start);
            bool last = start + n == total;
            x.Slice(start * dim, n * dim).CopyTo(state.X);
            ForwardChunk(n, state, ctx, last ? (allLogits ? n : 1) : 0);
        }
    }

    /// <summary>dst (tokens.Length, dim) = rows of the token embedding.</summary>
    public void Embed(ReadOnlySpan<int> tokens, Span<float> dst)
    {
        int dim = Config.Dim;
        for (int i = 0; i < tokens.Length; i++)
        {
            if ((uint)tokens[i] >= (uint)Config.VocabSize) throw new FurnaceException($"token id {tokens[i]} is outside the vocabulary [0, {Config.VocabSize})");
            Dequantize.Row(dst.Slice(i * dim, dim), Weights.TokenEmbedding, tokens[i]);
        }
    }

    /// <summary>
    /// One decode step of B = tokens.Length independent sequences: token b is appended to states[b] at that state's
    /// own position (each sequence may be anywhere in its context). Every weight matrix is applied once to the B
    /// stacked rows; RoPE and attention are per sequence over its own KV cache. Writes batch.Logits row b for
    /// sequence b and advances each state by one. Allocates nothing.
    /// </summary>
    public void ForwardBatch(ReadOnlySpan<int> tokens, ReadOnlySpan<LlamaState> states, LlamaBatch batch, KernelContext ctx)
    {
        int n = tokens.Length;
        DecoderBatchArguments.Check(tokens, states, batch.MaxBatch);
        if (batch.VocabSize != Config.VocabSize) throw new ArgumentException("the batch workspace was made for another model");
        LlamaConfig c = Config;
        int dim = c.Dim;
        Embed(tokens, batch.X.AsSpan(0, n * dim));
        Span<float> x = batch.X.AsSpan(0, n * dim);
        RopeTable rope = _rope!;
        for (int l = 0; l < c.Layers; l++)
        {
            LlamaLayerWeights w = Weights.Layers[l];
            ProjectQkv(batch, n, w, ctx, l);
            Span<float> q = batch.Q.AsSpan(0, n * c.QDim), k = batch.K.AsSpan(0, n * c.KvDim), v = batch.V.AsSpan(0, n * c.KvDim);
            Span<float> att = batch.AttnOut.AsSpan(0, n * c.QDim);
            for (int i = 0; i < n; i++)
            {
                LlamaState s = states[i];
                int pos = s.Position;
                Span<float> qi = q.Slice(i * c.QDim, c.QDim), ki = k.Slice(i * c.KvDim, c.KvDim), vi = v.Slice(i * c.KvDim, c.KvDim);
                Rope.Apply(qi, c.Heads, c.HeadDim, pos, rope, RopeStyle);
                Rope.Apply(ki, c.KvHeads, c.HeadDim, pos, rope, RopeStyle);
                ki.CopyTo(s.KeyCache[l].AsSpan(pos * c.KvDim, c.KvDim));
                vi.CopyTo(s.ValueCache[l].AsSpan(pos * c.KvDim, c.KvDim));
                Attention.Causal(att.Slice(i * c.QDim, c.QDim), qi, s.KeyCache[l], s.ValueCache[l], pos, 1, c.Heads, c.KvHeads, c.HeadDim, ctx);
            }
            OutputAndFfn(batch, n, w, ctx, l);
        }
        for (int i = 0; i < n; i++) states[i].Position++;

        Span<float> xf = batch.XNorm.AsSpan(0, n * dim);
        for (int i = 0; i < n; i++) Ops.RmsNorm(xf.Slice(i * dim, dim), x.Slice(i * dim, dim), Weights.OutputNorm, c.RmsEps);
        MatMul.Forward(batch.Logits.AsSpan(0, n * c.VocabSize), xf, n, Weights.Output, ctx);
    }

    /// <summary>A workspace for ForwardBatch steps of up to maxBatch sequences.</summary>
    public LlamaBatch NewBatch(int maxBatch) => new(Config, maxBatch);

    IDecoderBatch IDecoder.NewDecoderBatch(int maxBatch) => NewBatch(maxBatch);

    void IDecoder.ForwardBatch(ReadOnlySpan<int> tokens, ReadOnlySpan<IDecoderState> states, IDecoderBatch batch, KernelContext ctx)
    {
        var b = (LlamaBatch)batch;
        if (states.Length > b.MaxBatch) throw new ArgumentException($"{states.Length} sequences exceed the batch workspace of {b.MaxBatch}");
        Span<LlamaState> typed = b.StepStates.AsSpan(0, states.Length);
        for (int i = 0; i < states.Length; i++) typed[i] = (LlamaState)states[i];
        try
        {
            ForwardBatch(tokens, typed, b, ctx);
        }
        finally
        {
            typed.Clear();
        }
    }

    // Runs the n <= MaxBatch positions whose input embeddings are in s.X; writes logits of the last `logitRows` (0, 1, or n).
    private void ForwardChunk(int n, LlamaState s, KernelContext ctx, int logitRows)
    {
        LlamaConfig c = Config;
        int dim = c.Dim, pos0 = s.Position;
        Span<float> x = s.X.AsSpan(0, n * dim);

        for (int l = 0; l < c.Layers; l++) Layer(l, n, s, pos0, ctx);
        s.Position = pos0 + n;

        if (logitRows == 0) return;
        int first = n - logitRows;
        Span<float> xf = s.XNorm.AsSpan(0, logitRows * dim);
        for (int i = 0; i < logitRows; i++) Ops.RmsNorm(xf.Slice(i * dim, dim), x.Slice((first + i) * dim, dim), Weights.OutputNorm, c.RmsEps);
        MatMul.Forward(s.Logits.AsSpan(0, logitRows * c.VocabSize), xf, logitRows, Weights.Output, ctx);
    }

    /// <summary>
    /// Runs decoder layer l alone over the n rows of s.X (positions 0..n-1, one sequence), in place: s.X (n, dim) in,
    /// the layer's output out; layer l of the KV cache is overwritten and s.Position is not moved. The Observer sees the
    /// input rows of each matmul of the layer: calibration (GPTQ collects its Hessians layer by layer this way).
    /// </summary>
    public void ForwardLayer(int l, LlamaState s, int n, KernelContext ctx)
    {
        if ((uint)l >= (uint)Config.Layers) throw new ArgumentOutOfRangeException(nameof(l), l, $"the model has {Config.Layers} layers");
        if (n <= 0 || n > s.MaxBatch || n > s.ContextLength) throw new ArgumentException($"{n} rows do not fit the state (batch {s.MaxBatch}, context {s.ContextLength})");
        Layer(l, n, s, 0, ctx);
    }

    // Layer l over the n rows of s.X at positions pos0.. (their keys and values appended to the cache at pos0).
    private void Layer(int l, int n, LlamaState s, int pos0, KernelContext ctx)
    {
        LlamaConfig c = Config;
        RopeTable rope = _rope!;
        LlamaLayerWeights w = Weights.Layers[l];
        ProjectQkv(s, n, w, ctx, l);
        Span<float> q = s.Q.AsSpan(0, n * c.QDim), k = s.K.AsSpan(0, n * c.KvDim), v = s.V.AsSpan(0, n * c.KvDim);
        for (int i = 0; i < n; i++)
        {
            Span<float> qi = q.Slice(i * c.QDim, c.QDim), ki = k.Slice(i * c.KvDim, c.KvDim);
            Rope.Apply(qi, c.Heads, c.HeadDim, pos0 + i, rope, RopeStyle);
            Rope.Apply(ki, c.KvHeads, c.HeadDim, pos0 + i, rope, RopeStyle);
        }
        k.CopyTo(s.KeyCache[l].AsSpan(pos0 * c.KvDim, n * c.KvDim));
        v.CopyTo(s.ValueCache[l].AsSpan(pos0 * c.KvDim, n * c.KvDim));

        Span<float> att = s.AttnOut.AsSpan(0, n * c.QDim);
        Attention.Causal(att, q, s.KeyCache[l], s.ValueCache[l], pos0, n, c.Heads, c.KvHeads, c.HeadDim, ctx);
        OutputAndFfn(s, n, w, ctx, l);
    }

    // The start of a layer for the n rows of ws.X: XNorm = RMSNorm(X), then Q, K, V (n, qDim / kvDim) with their
    // biases (Qwen2); RoPE and attention are the caller's, as positions and KV caches differ per path.
    private void ProjectQkv(LlamaWorkspace ws, int n, LlamaLayerWeights w, KernelContext ctx, int layer)
    {
        LlamaConfig c = Config;
        int dim = c.Dim;
        Span<float> x = ws.X.AsSpan(0, n * dim), xn = ws.XNorm.AsSpan(0, n * dim);
        for (int i = 0; i < n; i++) Ops.RmsNorm(xn.Slice(i * dim, dim), x.Slice(i * dim, dim), w.AttnNorm, c.RmsEps);
        Span<float> q = ws.Q.AsSpan(0, n * c.QDim), k = ws.K.AsSpan(0, n * c.KvDim), v = ws.V.AsSpan(0, n * c.KvDim);
        if (Observer is { } o)
        {
            o.Observe(layer, LlamaProjection.Q, xn, n);
            o.Observe(layer, LlamaProjection.K, xn, n);
            o.Observe(layer, LlamaProjection.V, xn, n);
        }
        MatMul.Forward(q, xn, n, w.Wq, ctx);
        MatMul.Forward(k, xn, n, w.Wk, ctx);
        MatMul.Forward(v, xn, n, w.Wv, ctx);
        if (w.Bq == null && w.Bk == null && w.Bv == null) return;
        for (int i = 0; i < n; i++)
        {
            if (w.Bq != null) Ops.Add(q.Slice(i * c.QDim, c.QDim), w.Bq);
            if (w.Bk != null) Ops.Add(k.Slice(i * c.KvDim, c.KvDim), w.Bk);
            if (w.Bv != null) Ops.Add(v.Slice(i * c.KvDim, c.KvDim), w.Bv);
        }
    }

    // The rest of a layer once ws.AttnOut holds attention: X += AttnOut Wo, then X += Down(SiLU(Gate) * Up) of RMSNorm(X).
    private void OutputAndFfn(LlamaWorkspace ws, int n, LlamaLayerWeights w, KernelContext ctx, int layer)
    {
        LlamaConfig c = Config;
        int dim = c.Dim;
        Span<float> x = ws.X.AsSpan(0, n * dim), xn = ws.XNorm.AsSpan(0, n * dim), proj = ws.Proj.AsSpan(0, n * dim);
        Observer?.Observe(layer, LlamaProjection.Output, ws.AttnOut.AsSpan(0, n * c.QDim), n);
        MatMul.Forward(proj, ws.AttnOut.AsSpan(0, n * c.QDim), n, w.Wo, ctx);
        Ops.Add(x, proj);
        for (int i = 0; i < n; i++) Ops.RmsNorm(xn.Slice(i * dim, dim), x.Slice(i * dim, dim), w.FfnNorm, c.RmsEps);
        Span<float> gate = ws.Gate.AsSpan(0, n * c.FfnDim), up = ws.Up.AsSpan(0, n * c.FfnDim);
        if (Observer is { } o)
        {
            o.Observe(layer, LlamaProjection.Gate, xn, n);
            o.Observe(layer, LlamaProjection.Up, xn, n);
        }
        MatMul.Forward(gate, xn, n, w.WGate, ctx);
        MatMul.Forward(up, xn, n, w.WUp, ctx);
        Ops.SiluMul(gate, up);
        Observer?.Observe(layer, LlamaProjection.Down, gate, n);
        MatMul.Forward(proj, gate, n, w.WDown, ctx);
        Ops.Add(x, proj);
    }
}
