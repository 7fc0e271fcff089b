// The Llama-family decoder as a graph on the autograd tape (HF modeling_llama / modeling_qwen2 LlamaForCausalLM,
// the same math as LlamaModel's inference forward):
//   x = embed(tokens)                                       (or spliced input embeddings, for a VLM)
//   per layer: h = rms(x); x += Wo · attn(rope(Wq h + bq), rope(Wk h + bk), Wv h + bv)     causal, grouped-query
//              h = rms(x); x += Wdown · (silu(Wgate h) ⊙ Wup h)
//   logits = Wout · rms(x)
// Sequences are batched as (batch*seq, dim) rows of equal length (right padding is harmless under the causal mask).
// Parameters are named by their Hugging Face checkpoint keys under a prefix ("" for LlamaForCausalLM,
// "language_model." inside LLaVA), so a trained model saves back under the keys it was loaded from.
using Furnace.Models.Layers;
using Furnace.Models.Lora;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;

namespace Furnace.Models.Llama;

public sealed class LlamaTrainable
{
    private readonly WeightMatrix _frozenEmbedding;
    private RopeTable _rope;

    private LlamaTrainable(LlamaModel model, LlamaTraining mode, string prefix, WeightMatrix frozenEmbedding, Tensor? embedding,
        LlamaTrainableLayer[] layers, Tensor outputNorm, TapeLinear head)
    {
        Model = model;
        Mode = mode;
        Prefix = prefix;
        _frozenEmbedding = frozenEmbedding;
        Embedding = embedding;
        Layers = layers;
        OutputNorm = outputNorm;
        Head = head;
        _rope = model.NewRopeTable(Math.Min(model.Config.MaxPositions, 512));
        var ps = new List<Tensor>();
        if (embedding is { RequiresGrad: true }) ps.Add(embedding);
        foreach (var l in layers)
        {
            if (l.AttnNorm.RequiresGrad) ps.Add(l.AttnNorm);
            foreach (var lin in l.Linears)
            {
                if (lin.Weight is { RequiresGrad: true } w) ps.Add(w);
                if (lin.Bias is { RequiresGrad: true } b) ps.Add(b);
            }
            if (l.FfnNorm.RequiresGrad) ps.Add(l.FfnNorm);
        }
        if (outputNorm.RequiresGrad) ps.Add(outputNorm);
        if (head.Weight is { RequiresGrad: true } hw && !ReferenceEquals(hw, embedding)) ps.Add(hw);
        Parameters = ps;
        Adapters = layers.SelectMany(l => l.Linears).Select(l => l.Lora).OfType<LoraLinear>().ToList();
    }

    /// <summary>The inference model whose checkpoint weights the graph reads (frozen parts) or was copied from.</summary>
    public LlamaModel Model { get; }

    public LlamaConfig Config => Model.Config;

    public LlamaTraining Mode { get; }

    /// <summary>Prefix of every checkpoint key ("" or "language_model.").</summary>
    public string Prefix { get; }

    /// <summary>The token embedding as a float parameter (Full), or null when the checkpoint's matrix is read frozen.</summary>
    public Tensor? Embedding { get; }

    public IReadOnlyList<LlamaTrainableLayer> Layers { get; }

    public Tensor OutputNorm { get; }

    /// <summary>The output projection (vocab, dim); with tied embeddings in Full mode its weight is Embedding.</summary>
    public TapeLinear Head { get; }

    /// <summary>Trainable full-weight parameters (Full mode; empty otherwise), in checkpoint order.</summary>
    public IReadOnlyList<Tensor> Parameters { get; }

    /// <summary>LoRA updates (Lora mode; empty otherwise), in layer order.</summary>
    public IReadOnlyList<LoraLinear> Adapters { get; }

    /// <summary>The LoRA parameters: A and B of every adapter.</summary>
    public IReadOnlyList<Tensor> LoraParameters => Adapters.SelectMany(a => new[] { a.A, a.B }).ToList();

    /// <summary>
    /// The graph over a loaded decoder. Frozen: every weight is the checkpoint's (any dtype). Lora: frozen base with
    /// the update <paramref name="lora"/> gives for a module path (null = not adapted). Full: float32 copies of every
    /// weight, all trainable (dequantized when the checkpoint is quantized).
    /// </summary>
    public static LlamaTrainable Create(LlamaModel model, LlamaTraining mode, string prefix = "", Func<string, LoraLinear?>? lora = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.RopeStyle != RopeStyle.HalfSplit)
            throw new FurnaceException("training needs a decoder loaded from Hugging Face weights (half-split rope); GGUF llama weights are permuted for interleaved rope");
        if (mode == LlamaTraining.Lora && lora == null) throw new ArgumentException("LoRA training needs the adapters", nameof(lora));
        LlamaConfig c = model.Config;
        LlamaWeights w = model.Weights;
        bool full = mode == LlamaTraining.Full;
        string p = prefix + "model.";

        Tensor Vec(string key, float[] v) => new([v.Length], full ? (float[])v.Clone() : v, full, key);
        Tensor? Bias(string key, float[]? v) => v == null ? null : Vec(key, v);
        TapeLinear Lin(string path, WeightMatrix m, float[]? bias = null)
        {
            Tensor? b = Bias(path + ".bias", bias);
            if (full) return TapeLinear.Dense(path, new Tensor([m.Rows, m.Cols], TapeLinear.ToFloats(m), true, path + ".weight"), b);
            return TapeLinear.Frozen(path, m, b, mode == LlamaTraining.Lora ? lora!(path) : null);
        }

        var layers = new LlamaTrainableLayer[c.Layers];
        for (int i = 0; i < c.Layers; i++)
        {
            LlamaLayerWeights lw = w.Layers[i];
            string lp = $"{p}layers.{i}.";
            layers[i] = new LlamaTrainableLayer
            {
                AttnNorm = Vec(lp + "input_layernorm.weight", lw.AttnNorm),
                Q = Lin(lp + "self_attn.q_proj", lw.Wq, lw.Bq),
                K = Lin(lp + "self_attn.k_proj", lw.Wk, lw.Bk),
                V = Lin(lp + "self_attn.v_proj", lw.Wv, lw.Bv),
                O = Lin(lp + "self_attn.o_proj", lw.Wo),
                FfnNorm = Vec(lp + "post_attention_layernorm.weight", lw.FfnNorm),
                Gate = Lin(lp + "mlp.gate_proj", lw.WGate),
                Up = Lin(lp + "mlp.up_proj", lw.WUp),
                Down = Lin(lp + "mlp.down_proj", lw.WDown),
            };
        }
        Tensor? embedding = full
            ? new Tensor([c.VocabSize, c.Dim], TapeLinear.ToFloats(w.TokenEmbedding), true, p + "embed_tokens.weight")
            : null;
        TapeLinear head = full
            ? c.TiedEmbeddings
                ? TapeLinear.Dense(p + "embed_tokens", embedding!)
                : TapeLinear.Dense(prefix + "lm_head", new Tensor([c.VocabSize, c.Dim], TapeLinear.ToFloats(w.Output), true, prefix + "lm_head.weight"))
            : TapeLinear.Frozen(c.TiedEmbeddings ? p + "embed_tokens" : prefix + "lm_head", w.Output);
        return new LlamaTrainable(model, mode, prefix, w.TokenEmbedding, embedding, layers, Vec(p + "norm.weight", w.OutputNorm), head);
    }

    /// <summary>The frozen decoder with a LoRA adapter whose module paths carry <paramref name="prefix"/> (see LoraModules).</summary>
    public static LlamaTrainable WithLora(LlamaModel model, LoraAdapter adapter, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(adapter);
        adapter.CheckAgainst(model.Config, "LoRA adapter");
        return Create(model, LlamaTraining.Lora, prefix,
            path => adapter.Modules.TryGetValue(path, out var w) ? LoraLinear.Over(path, w, adapter.Config) : null);
    }

    /// <summary>Token embeddings (ids.Length, dim).</summary>
    public Tensor Embed(Tape tape, ReadOnlySpan<int> ids)
    {
        foreach (int id in ids)
        {
            if ((uint)id >= (uint)Config.VocabSize) throw new FurnaceException($"token id {id} is outside the vocabulary [0, {Config.VocabSize})");
        }
        return Embedding != null ? tape.Embedding(Embedding, ids) : tape.Embedding(_frozenEmbedding, ids);
    }

    /// <summary>
    /// The final normed hidden states (batch*seq, dim) of input embeddings x (batch*seq, dim), each sequence at
    /// positions 0..seq-1. dropoutRng drives LoRA dropout (null: no dropout, as in evaluation).
    /// </summary>
    public Tensor Hidden(Tape tape, Tensor x, int batch, int seq, Random? dropoutRng = null)
    {
        LlamaConfig c = Config;
        if (x.Rank != 2 || x.Shape[1] != c.Dim || x.Shape[0] != batch * seq)
            throw new ArgumentException($"input embeddings {x} are not ({batch}*{seq}, {c.Dim})");
        if (_rope.MaxPositions < seq) _rope = Model.NewRopeTable(Math.Max(seq, 2 * _rope.MaxPositions));
        var positions = new int[batch * seq];
        for (int r = 0; r < positions.Length; r++) positions[r] = r % seq;

        foreach (LlamaTrainableLayer l in Layers)
        {
            Tensor h = tape.RmsNorm(x, l.AttnNorm, c.RmsEps);
            Tensor q = tape.Rope(l.Q.Forward(tape, h, dropoutRng), positions, c.Heads, c.HeadDim, _rope, RopeStyle.HalfSplit);
            Tensor k = tape.Rope(l.K.Forward(tape, h, dropoutRng), positions, c.KvHeads, c.HeadDim, _rope, RopeStyle.HalfSplit);
            Tensor v = l.V.Forward(tape, h, dropoutRng);
            Tensor a = tape.Attention(q, k, v, batch, seq, c.Heads, c.KvHeads, causal: true);
            x = tape.Add(x, l.O.Forward(tape, a, dropoutRng));

            h = tape.RmsNorm(x, l.FfnNorm, c.RmsEps);
            Tensor g = tape.SiluMul(l.Gate.Forward(tape, h, dropoutRng), l.Up.Forward(tape, h, dropoutRng));
            x = tape.Add(x, l.Down.Forward(tape, g, dropoutRng));
        }
        return tape.RmsNorm(x, OutputNorm, c.RmsEps);
    }

    /// <summary>Logits (rows, vocab) of final hidden rows (rows, dim).</summary>
    public Tensor Logits(Tape tape, Tensor hidden) => Head.Forward(tape, hidden);

    /// <summary>Every tensor of the decoder as (checkpoint key without prefix, shape, float values) with LoRA merged in: the LM of an export.</summary>
    public IEnumerable<(string Key, long[] Shape, float[] Values)> MergedTensors()
    {
        LlamaConfig c = Config;
        int cut = Prefix.Length;
        yield return ("model.embed_tokens.weight", [c.VocabSize, c.Dim], Embedding != null ? (float[])Embedding.Data.Clone() : TapeLinear.ToFloats(_frozenEmbedding));
        foreach (var l in Layers)
        {
            yield return (l.AttnNorm.Name![cut..], [c.Dim], (float[])l.AttnNorm.Data.Clone());
            foreach (var lin in new[] { l.Q, l.K, l.V, l.O })
            {
                yield return (lin.ModulePath[cut..] + ".weight", [lin.OutFeatures, lin.InFeatures], lin.EffectiveWeight());
                if (lin.Bias != null) yield return (lin.ModulePath[cut..] + ".bias", [lin.OutFeatures], (float[])lin.Bias.Data.Clone());
            }
            yield return (l.FfnNorm.Name![cut..], [c.Dim], (float[])l.FfnNorm.Data.Clone());
            foreach (var lin in new[] { l.Gate, l.Up, l.Down })
                yield return (lin.ModulePath[cut..] + ".weight", [lin.OutFeatures, lin.InFeatures], lin.EffectiveWeight());
        }
        yield return ("model.norm.weight", [c.Dim], (float[])OutputNorm.Data.Clone());
        if (!c.TiedEmbeddings) yield return ("lm_head.weight", [c.VocabSize, c.Dim], Head.EffectiveWeight());
    }
}
