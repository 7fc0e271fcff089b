// The DeepSeek-V2 / V3 decoder forward pass: Multi-head Latent Attention and DeepSeekMoE (DeepSeek-V2 §2.1–2.2,
// DeepSeek-V3 §2.1), computed as llama.cpp's deepseek2 graph does for an MLA GGUF (src/models/deepseek2.cpp, is_mla
// branch; build_moe_ffn in src/llama-graph.cpp; llama.cpp c0c7e147, the commit LLamaSharp 0.30.0 bundles):
//   per layer, x (dim,) of a token at position p:
//     q = W_q·rms(x)  or  W_qB·rms(W_qA·rms(x))                     (heads, nope + rope)
//     [c, k^R] = W_kvA·rms(x);  c = rms(c)                             latent (kvLora) + shared rope key (rope)
//     q^R, k^R = rope(q^R, p), rope(k^R, p)                            YaRN, adjacent pairs
//     cache[p] = [c, k^R]                                              the only per-token state
//     q^C_h = W_UK_h^T · q^nope_h                                      "absorbed": scores against latents directly
//     a_h = softmax_j(kq_scale · (q^C_h·c_j + q^R_h·k^R_j))
//     o_h = W_UV_h · Σ_j a_hj c_j;  x += W_o·[o_1..o_H]
//     x += FFN(rms(x)): dense SwiGLU in the first leading layers, else Σ_{e∈topk} g_e·E_e(x) + Σ shared experts
//   logits = W_out·rms(x)
// Prefill and decode share the absorbed form (one code path; a chunk of tokens turns every projection into a GEMM).
// A decode step reads only the chosen experts' rows. ForwardBatch (continuous batching) runs the same chunk code over
// one row per sequence, each row attending over its own sequence's latent cache at its own position.
using Furnace.Formats.Gguf;
using Furnace.Formats.HfConfig;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models.Lora;
using Furnace.Tensors;

namespace Furnace.Models.DeepSeek;

public sealed class DeepSeekModel : IDecoder
{
    private readonly ITensorSource? _owned;
    private readonly PackedWeights? _packed;
    private DeepSeekRope? _rope;

    public DeepSeekModel(DeepSeekConfig config, DeepSeekWeights weights, ITensorSource? owned = null, PackedWeights? packed = null)
    {
        Config = config;
        Weights = weights;
        _owned = owned;
        _packed = packed;
    }

    public DeepSeekConfig Config { get; }

    public DeepSeekWeights Weights { get; }

    public string Architecture => Config.Architecture;
    public int Dim => Config.Dim;
    public int Layers => Config.Layers;
    public int VocabSize => Config.VocabSize;
    public int MaxPositions => Config.MaxPositions;
    public long ParameterCount => Config.ParameterCount;

    /// <summary>Loads the decoder of a deepseek2 GGUF file; the model owns and disposes the file.</summary>
    public static DeepSeekModel FromGguf(GgufFile f) => FromGguf(f, null);

    /// <summary>As FromGguf, with a PEFT LoRA adapter merged into the weights at load when given (see DeepSeekLora).</summary>
    public static DeepSeekModel FromGguf(GgufFile f, LoraAdapter? lora, float loraScale = 1f)
    {
        DeepSeekConfig c = DeepSeekConfig.FromGguf(f);
        var packed = new PackedWeights();
        try
        {
            return new DeepSeekModel(c, LoadMerged(() => DeepSeekWeights.Load(new WeightLoader(f), c, lora == null ? packed : null), c, lora, loraScale, packed, f.Path), f, packed);
        }
        catch
        {
            packed.Dispose();
            throw;
        }
    }

    /// <summary>Loads a Hugging Face DeepseekV2/V3ForCausalLM directory (config.json + safetensors); the model owns the files.</summary>
    public static DeepSeekModel FromHuggingFace(string dir) => FromHuggingFace(dir, null);

    /// <summary>As FromHuggingFace, with a PEFT LoRA adapter merged into the weights at load when given.</summary>
    public static DeepSeekModel FromHuggingFace(string dir, LoraAdapter? lora, float loraScale = 1f)
    {
        string configPath = Path.Combine(dir, "config.json");
        DeepSeekConfig c = DeepSeekConfig.FromHf(HfConfigFile.Read(configPath), configPath);
        ITensorSource source = SafeTensorsCheckpoint.Open(dir);
        var packed = new PackedWeights();
        try
        {
            return new DeepSeekModel(c, LoadMerged(() => DeepSeekWeights.LoadHf(new WeightLoader(source), c, lora == null ? packed : null), c, lora, loraScale, packed, dir), source, packed);
        }
        catch
        {
            packed.Dispose();
            source.Dispose();
            throw;
        }
    }

    // the weights as loaded, or loaded unpacked and then merged with the adapter (packing everything as the load would)
    private static DeepSeekWeights LoadMerged(Func<DeepSeekWeights> load, DeepSeekConfig c, LoraAdapter? lora, float loraScale, PackedWeights packed, string source)
    {
        DeepSeekWeights w = load();
        if (lora == null) return w;
        try
        {
            return DeepSeekLora.Apply(w, c, lora, packed, loraScale, pack: true, source: source);
        }
        catch
        {
            foreach (NativeBuffer b in w.Owned) b.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        foreach (NativeBuffer b in Weights.Owned) b.Dispose();
        _packed?.Dispose();
        _owned?.Dispose();
    }

    public DeepSeekState NewState(int contextLength, int maxBatch = 64)
    {
        if (contextLength > Config.MaxPositions * 8)
            throw new FurnaceException($"context length {contextLength} is far beyond the model's {Config.MaxPositions}");
        if (_rope == null || _rope.MaxPositions < contextLength) _rope = new DeepSeekRope(Config, contextLength);
        return new DeepSeekState(Config, contextLength, maxBatch);
    }

    IDecoderState IDecoder.NewDecoderState(int contextLength, int maxBatch) => NewState(contextLength, maxBatch);

    void IDecoder.Forward(ReadOnlySpan<int> tokens, IDecoderState state, KernelContext ctx, bool allLogits) =>
        Forward(tokens, (DeepSeekState)state, ctx, allLogits);

    void IDecoder.ForwardEmbeddings(ReadOnlySpan<float> x, IDecoderState state, KernelContext ctx, bool allLogits) =>
        ForwardEmbeddings(x, (DeepSeekState)state, ctx, allLogits);

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
    /// Evaluates tokens at positions state.Position.. and appends them to the latent cache. Writes logits of the last
    /// token to state.Logits[0..vocab), or of every token when allLogits is set (then tokens.Length ≤ state.MaxBatch).
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, DeepSeekState state, KernelContext ctx, bool allLogits = false)
    {
        if (tokens.IsEmpty) throw new ArgumentException("no tokens to evaluate");
        Check(tokens.Length, state, allLogits);
        int dim = Config.Dim;
        for (int start = 0; start < tokens.Length; start += state.MaxBatch)
        {
            int n = Math.Min(state.MaxBatch, tokens.Length - start);
            bool last = start + n == tokens.Length;
            Embed(tokens.Slice(start, n), state.X.AsSpan(0, n * dim));
            ForwardChunk(n, state, new ReadOnlySpan<DeepSeekState>(in state), ctx, last ? (allLogits ? n : 1) : 0);
        }
    }

    /// <summary>As Forward, from input embeddings x (n, dim) instead of token ids.</summary>
    public void ForwardEmbeddings(ReadOnlySpan<float> x, DeepSeekState state, KernelContext ctx, bool allLogits = false)
    {
        int dim = Config.Dim;
        if (x.IsEmpty || x.Length % dim != 0) throw new ArgumentException($"embeddings hold {x.Length} floats, not a multiple of dim {dim}");
        int total = x.Length / dim;
        Check(total, state, allLogits);
        for (int start = 0; start < total; start += state.MaxBatch)
        {
            int n = Math.Min(state.MaxBatch, total - start);
            x.Slice(start * dim, n * dim).CopyTo(state.X);
            ForwardChunk(n, state, new ReadOnlySpan<DeepSeekState>(in state), ctx, start + n == total ? (allLogits ? n : 1) : 0);
        }
    }

    private void Check(int count, DeepSeekState state, bool allLogits)
    {
        if (state.Position + count > state.ContextLength)
            throw new FurnaceException($"{state.Position + count} tokens exceed the context length {state.ContextLength}");
        if (allLogits && count > state.MaxBatch)
            throw new ArgumentException($"all logits of {count} positions need a batch of at least that size (have {state.MaxBatch})");
        if (_rope == null || _rope.MaxPositions < state.ContextLength) _rope = new DeepSeekRope(Config, state.ContextLength);
    }

    /// <summary>A workspace for ForwardBatch steps of up to maxBatch sequences.</summary>
    public DeepSeekBatch NewBatch(int maxBatch) => new(Config, maxBatch);

    IDecoderBatch IDecoder.NewDecoderBatch(int maxBatch) => NewBatch(maxBatch);

    void IDecoder.ForwardBatch(ReadOnlySpan<int> tokens, ReadOnlySpan<IDecoderState> states, IDecoderBatch batch, KernelContext ctx)
    {
        var b = (DeepSeekBatch)batch;
        if (states.Length > b.MaxBatch) throw new ArgumentException($"{states.Length} sequences exceed the batch workspace of {b.MaxBatch}");
        Span<DeepSeekState> typed = b.StepStates.AsSpan(0, states.Length);
        for (int i = 0; i < states.Length; i++) typed[i] = (DeepSeekState)states[i];
        try
        {
            ForwardBatch(tokens, typed, b, ctx);
        }
        finally
        {
            typed.Clear();
        }
    }

    /// <summary>
    /// One decode step of B = tokens.Length independent sequences (continuous batching): token b is appended to
    /// states[b]'s latent cache at that state's own position. Every projection, the router and each chosen expert run
    /// once over the B stacked rows; MLA's absorbed attention runs per sequence over its own latents. Writes
    /// batch.LogitsOf(b) and advances each state by one. Allocates nothing.
    /// </summary>
    public void ForwardBatch(ReadOnlySpan<int> tokens, ReadOnlySpan<DeepSeekState> states, DeepSeekBatch batch, KernelContext ctx)
    {
        int n = tokens.Length;
        int longest = DecoderBatchArguments.Check(tokens, states, batch.MaxBatch);
        if (batch.VocabSize != Config.VocabSize || batch.Workspace.Latent.Length != Config.Layers)
            throw new ArgumentException("the batch workspace was made for another model");
        if (_rope == null || _rope.MaxPositions < longest) _rope = new DeepSeekRope(Config, longest);
        DeepSeekState ws = batch.Workspace;
        Embed(tokens, ws.X.AsSpan(0, n * Config.Dim));
        ForwardChunk(n, ws, states, ctx, n);
    }

    // Runs the n <= MaxBatch rows whose input embeddings are in ws.X, ws being the activation workspace; writes logits
    // of the last `logitRows` (0, 1, or n) to ws.Logits. caches holds one state (a prefill chunk: row i at its position
    // Position + i, ws being that state) or n states (a batched decode step: row i at caches[i].Position); their
    // positions advance by the rows they took.
    private void ForwardChunk(int n, DeepSeekState ws, ReadOnlySpan<DeepSeekState> caches, KernelContext ctx, int logitRows)
    {
        DeepSeekState s = ws;
        DeepSeekConfig c = Config;
        int dim = c.Dim;
        Span<float> x = s.X.AsSpan(0, n * dim), xn = s.XNorm.AsSpan(0, n * dim), proj = s.Proj.AsSpan(0, n * dim);
        for (int l = 0; l < c.Layers; l++)
        {
            DeepSeekLayerWeights w = Weights.Layers[l];
            for (int i = 0; i < n; i++) Ops.RmsNorm(xn.Slice(i * dim, dim), x.Slice(i * dim, dim), w.AttnNorm, c.RmsEps);
            if (c.Mla) Attention(n, s, caches, l, w, ctx);
            else DeepSeekMhaAttention.Forward(c, _rope!, n, s, caches, l, w, ctx);
            MatMul.Forward(proj, s.AttnOut.AsSpan(0, n * c.Heads * c.VHeadDim), n, w.Wo, ctx);
            Ops.Add(x, proj);

            for (int i = 0; i < n; i++) Ops.RmsNorm(xn.Slice(i * dim, dim), x.Slice(i * dim, dim), w.FfnNorm, c.RmsEps);
            if (c.IsMoeLayer(l)) MoeFfn(n, s, w, ctx);
            else SwiGlu(n, s, w.WGate!.Value, w.WUp!.Value, w.WDown!.Value, c.FfnDim, proj, ctx);
            Ops.Add(x, proj);
        }
        if (caches.Length == 1) caches[0].Position += n;
        else foreach (DeepSeekState cache in caches) cache.Position++;

        if (logitRows == 0) return;
        int first = n - logitRows;
        Span<float> xf = xn.Slice(0, logitRows * dim);
        for (int i = 0; i < logitRows; i++) Ops.RmsNorm(xf.Slice(i * dim, dim), x.Slice((first + i) * dim, dim), Weights.OutputNorm, c.RmsEps);
        MatMul.Forward(s.Logits.AsSpan(0, logitRows * c.VocabSize), xf, logitRows, Weights.Output, ctx);
    }

    // MLA for the n rows of s.XNorm (s the workspace), row i at position PositionOf(caches, i) of CacheOf(caches, i):
    // appends their latents to layer l of those caches and leaves the per-head values (n, heads, vHead) in s.AttnOut.
    private void Attention(int n, DeepSeekState s, ReadOnlySpan<DeepSeekState> caches, int l, DeepSeekLayerWeights w, KernelContext ctx)
    {
        DeepSeekConfig c = Config;
        DeepSeekRope rope = _rope!;
        int h = c.Heads, qkHead = c.QkHeadDim, nope = c.QkNopeDim, ropeDim = c.QkRopeDim, kvLora = c.KvLoraRank, vHead = c.VHeadDim;
        int row = c.CacheRowDim;
        ReadOnlySpan<float> xn = s.XNorm.AsSpan(0, n * c.Dim);
        Span<float> q = s.Q.AsSpan(0, n * h * qkHead), kv = s.Kv.AsSpan(0, n * row);

        if (w.Wq is { } wq) MatMul.Forward(q, xn, n, wq, ctx);
        else
        {
            Span<float> qa = s.QA.AsSpan(0, n * c.QLoraRank);
            MatMul.Forward(qa, xn, n, w.WqA!.Value, ctx);
            for (int i = 0; i < n; i++) Ops.RmsNorm(qa.Slice(i * c.QLoraRank, c.QLoraRank), qa.Slice(i * c.QLoraRank, c.QLoraRank), w.QANorm, c.RmsEps);
            MatMul.Forward(q, qa, n, w.WqB!.Value, ctx);
        }
        MatMul.Forward(kv, xn, n, w.WkvA, ctx);

        for (int i = 0; i < n; i++)
        {
            DeepSeekState cache = CacheOf(caches, i);
            float[] latentCache = cache.Latent[l], ropeCache = cache.RopeKey[l];
            int pos = PositionOf(caches, i);
            Span<float> ki = kv.Slice(i * row, row);
            Ops.RmsNorm(latentCache.AsSpan(pos * kvLora, kvLora), ki.Slice(0, kvLora), w.KvANorm, c.RmsEps);
            rope.Apply(ki, 1, row, kvLora, pos);
            ki.Slice(kvLora, ropeDim).CopyTo(ropeCache.AsSpan(pos * ropeDim, ropeDim));
            rope.Apply(q.Slice(i * h * qkHead, h * qkHead), h, qkHead, nope, pos);
        }

        // q^C_h (n, kvLora) = q^nope_h (n, nope) @ W_kB[h]^T, one GEMM per head over the chunk
        Span<float> headIn = s.HeadIn, headOut = s.HeadOut, qAbs = s.QAbs.AsSpan(0, n * h * kvLora);
        for (int hd = 0; hd < h; hd++)
        {
            for (int i = 0; i < n; i++) q.Slice((i * h + hd) * qkHead, nope).CopyTo(headIn.Slice(i * nope, nope));
            MatMul.Forward(headOut, headIn, n, w.WkB[hd], ctx);
            for (int i = 0; i < n; i++) headOut.Slice(i * kvLora, kvLora).CopyTo(qAbs.Slice((i * h + hd) * kvLora, kvLora));
        }

        // scores over the cached [c_j, k^R_j] of positions 0..p, softmax, weighted sum of latents
        float kqScale = rope.KqScale;
        Span<float> latentOut = s.LatentOut.AsSpan(0, n * h * kvLora);
        latentOut.Clear();
        for (int i = 0; i < n; i++)
        {
            DeepSeekState cache = CacheOf(caches, i);
            float[] latentCache = cache.Latent[l], ropeCache = cache.RopeKey[l];
            int len = PositionOf(caches, i) + 1;
            Span<float> scores = cache.Scores.AsSpan(0, len);
            for (int hd = 0; hd < h; hd++)
            {
                ReadOnlySpan<float> qc = qAbs.Slice((i * h + hd) * kvLora, kvLora), qr = q.Slice((i * h + hd) * qkHead + nope, ropeDim);
                for (int j = 0; j < len; j++)
                    scores[j] = kqScale * (Ops.Dot(qc, latentCache.AsSpan(j * kvLora, kvLora)) + Ops.Dot(qr, ropeCache.AsSpan(j * ropeDim, ropeDim)));
                Ops.Softmax(scores);
                Span<float> o = latentOut.Slice((i * h + hd) * kvLora, kvLora);
                for (int j = 0; j < len; j++) Ops.Axpy(o, scores[j], latentCache.AsSpan(j * kvLora, kvLora));
            }
        }

        // o_h (n, vHead) = latentOut_h (n, kvLora) @ W_vB[h]^T
        Span<float> attnOut = s.AttnOut.AsSpan(0, n * h * vHead);
        for (int hd = 0; hd < h; hd++)
        {
            for (int i = 0; i < n; i++) latentOut.Slice((i * h + hd) * kvLora, kvLora).CopyTo(headIn.Slice(i * kvLora, kvLora));
            MatMul.Forward(headOut, headIn, n, w.WvB[hd], ctx);
            for (int i = 0; i < n; i++) headOut.Slice(i * vHead, vHead).CopyTo(attnOut.Slice((i * h + hd) * vHead, vHead));
        }
    }

    internal static DeepSeekState CacheOf(ReadOnlySpan<DeepSeekState> caches, int row) => caches.Length == 1 ? caches[0] : caches[row];

    internal static int PositionOf(ReadOnlySpan<DeepSeekState> caches, int row) => caches.Length == 1 ? caches[0].Position + row : caches[row].Position;

    // output (m, dim) = Down(SiLU(Gate·in) ⊙ Up·in) for the m rows of input (m, dim)
    private void SwiGlu(int m, DeepSeekState s, WeightMatrix gate, WeightMatrix up, WeightMatrix down, int ffn, Span<float> output, KernelContext ctx) =>
        SwiGlu(m, s, s.XNorm.AsSpan(0, m * Config.Dim), gate, up, down, ffn, output, ctx);

    private static void SwiGlu(int m, DeepSeekState s, ReadOnlySpan<float> input, WeightMatrix gate, WeightMatrix up, WeightMatrix down, int ffn, Span<float> output, KernelContext ctx)
    {
        Span<float> g = s.Gate.AsSpan(0, m * ffn), u = s.Up.AsSpan(0, m * ffn);
        MatMul.Forward(g, input, m, gate, ctx);
        MatMul.Forward(u, input, m, up, ctx);
        Ops.SiluMul(g, u);
        MatMul.Forward(output, g, m, down, ctx);
    }

    // DeepSeekMoE for the n rows of s.XNorm: routed experts (each run once over the rows that chose it) plus the
    // shared experts, summed into s.Proj.
    private void MoeFfn(int n, DeepSeekState s, DeepSeekLayerWeights w, KernelContext ctx)
    {
        DeepSeekConfig c = Config;
        int dim = c.Dim, e = c.Experts, k = c.ExpertsUsed, ffn = c.ExpertFfnDim;
        Span<float> probs = s.RouterLogits.AsSpan(0, n * e), proj = s.Proj.AsSpan(0, n * dim);
        ReadOnlySpan<float> xn = s.XNorm.AsSpan(0, n * dim);
        MatMul.Forward(probs, xn, n, w.Router!.Value, ctx);
        for (int i = 0; i < n; i++) Route(probs.Slice(i * e, e), w.ExpProbsBias, s, s.Chosen.AsSpan(i * k, k), s.ChosenWeights.AsSpan(i * k, k));

        proj.Clear();
        Span<float> gathered = s.Moe, output = s.MoeOut;
        int[] rows = s.ExpertRows;
        for (int ex = 0; ex < e; ex++)
        {
            int m = 0;
            for (int i = 0; i < n; i++)
            {
                if (s.Chosen.AsSpan(i * k, k).IndexOf(ex) < 0) continue;
                xn.Slice(i * dim, dim).CopyTo(gathered.Slice(m * dim, dim));
                rows[m++] = i;
            }
            if (m == 0) continue;
            SwiGlu(m, s, gathered.Slice(0, m * dim), w.GateExps![ex], w.UpExps![ex], w.DownExps![ex], ffn, output.Slice(0, m * dim), ctx);
            for (int r = 0; r < m; r++)
            {
                int i = rows[r];
                float g = s.ChosenWeights[i * k + s.Chosen.AsSpan(i * k, k).IndexOf(ex)];
                Ops.Axpy(proj.Slice(i * dim, dim), g, output.Slice(r * dim, dim));
            }
        }
        if (c.SharedExperts > 0)
        {
            Span<float> shared = output.Slice(0, n * dim);
            SwiGlu(n, s, xn, w.GateShexp!.Value, w.UpShexp!.Value, w.DownShexp!.Value, ffn * c.SharedExperts, shared, ctx);
            Ops.Add(proj, shared);
        }
    }

    // One token's routing (llama.cpp build_moe_ffn): probs = softmax or sigmoid of the router logits (in place);
    // choose by probs + selection bias, restricted to the best groups (a group's score = the sum of its top two, or its
    // max for HF V2 directories);
    // mix with the unbiased probs of the chosen, normalised to sum 1 when asked, then scaled.
    private void Route(Span<float> probs, float[]? bias, DeepSeekState s, Span<int> chosen, Span<float> weights)
    {
        DeepSeekConfig c = Config;
        int e = c.Experts;
        if (c.Gating == ExpertGating.Softmax) Ops.Softmax(probs);
        else for (int j = 0; j < e; j++) probs[j] = 1f / (1f + MathF.Exp(-probs[j]));

        Span<float> sel = s.Selection.AsSpan(0, e);
        probs.CopyTo(sel);
        if (bias != null) Ops.Add(sel, bias);
        if (c.ExpertGroups > 1)
        {
            int per = e / c.ExpertGroups;
            Span<float> groups = s.GroupScores.AsSpan(0, c.ExpertGroups);
            for (int g = 0; g < c.ExpertGroups; g++)
            {
                float a = float.NegativeInfinity, b = float.NegativeInfinity;
                foreach (float v in sel.Slice(g * per, per))
                {
                    if (v > a) { b = a; a = v; }
                    else if (v > b) b = v;
                }
                groups[g] = c.GroupScore == ExpertGroupScore.Max ? a : a + b;
            }
            // keep the ExpertGroupsUsed best groups: mask the others, worst first
            for (int drop = 0; drop < c.ExpertGroups - c.ExpertGroupsUsed; drop++)
            {
                int worst = -1;
                for (int g = 0; g < c.ExpertGroups; g++)
                    if (!float.IsNaN(groups[g]) && (worst < 0 || groups[g] < groups[worst])) worst = g;
                groups[worst] = float.NaN;
                sel.Slice(worst * per, per).Fill(float.NegativeInfinity);
            }
        }
        for (int t = 0; t < chosen.Length; t++)
        {
            int best = -1;
            for (int j = 0; j < e; j++)
                if (sel[j] != float.MinValue && (best < 0 || sel[j] > sel[best])) best = j;
            chosen[t] = best;
            weights[t] = probs[best];
            sel[best] = float.MinValue;
        }
        if (c.ExpertWeightsNorm)
        {
            float sum = 0;
            foreach (float v in weights) sum += v;
            sum = MathF.Max(sum, 6.103515625e-5f);
            for (int t = 0; t < weights.Length; t++) weights[t] /= sum;
        }
        if (c.ExpertWeightsScale != 0f && c.ExpertWeightsScale != 1f)
            for (int t = 0; t < weights.Length; t++) weights[t] *= c.ExpertWeightsScale;
    }
}
