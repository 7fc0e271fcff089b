// The CLIP text tower forward (transformers modeling_clip.py CLIPTextTransformer, CLIPTextEmbeddings and
// CLIPModel.get_text_features):
//   x = token_embedding[ids] + position_embedding[0..T)                 (T, d)
//   encoder layers with the causal mask;  last_hidden_state = final_layer_norm(x)
//   pooled = last_hidden_state[eos position];  text_embeds = text_projection(pooled)   (no bias)
// The EOS position is the first argmax of the ids when eos_token_id == 2 (transformers' legacy rule for the OpenAI
// configs, whose EOS is the largest id), else the first position holding eos_token_id (0 when there is none, as
// torch's argmax of an all-zero mask gives). With the causal mask, padding after EOS cannot change the pooled
// row, so each text runs alone at its own length: no attention mask is needed.
using Furnace.Tensors;

namespace Furnace.Models.Clip;

public sealed class ClipTextTower
{
    private readonly ClipEncoderState _state;

    public ClipTextTower(ClipTextConfig config, ClipTextWeights weights)
    {
        Config = config;
        Weights = weights;
        _state = new ClipEncoderState(config.HiddenSize, config.IntermediateSize, config.MaxPositions);
    }

    public ClipTextConfig Config { get; }

    public ClipTextWeights Weights { get; }

    public int EmbeddingDim => Weights.Projection.Rows;

    /// <summary>The text embedding (projection_dim,) of one token sequence, as get_text_features (not normalized).</summary>
    public float[] EncodeText(ReadOnlySpan<int> ids, KernelContext ctx)
    {
        var embeds = new float[EmbeddingDim];
        EncodeInto(embeds, ids, ctx);
        return embeds;
    }

    /// <summary>Embeddings (texts, projection_dim) of several token sequences of any lengths.</summary>
    public float[] EncodeTexts(IReadOnlyList<int[]> texts, KernelContext ctx)
    {
        int e = EmbeddingDim;
        var embeds = new float[texts.Count * e];
        for (int i = 0; i < texts.Count; i++) EncodeInto(embeds.AsSpan(i * e, e), texts[i], ctx);
        return embeds;
    }

    /// <summary>pooler_output (d,): final_layer_norm of the hidden state at the EOS position.</summary>
    public float[] PooledOutput(ReadOnlySpan<int> ids, KernelContext ctx)
    {
        var pooled = new float[Config.HiddenSize];
        Pool(pooled, ids, ctx);
        return pooled;
    }

    /// <summary>Where the pooled output is read (transformers' rule, see the file header).</summary>
    public int PoolingIndex(ReadOnlySpan<int> ids)
    {
        int best = 0;
        if (Config.PoolsAtArgmax)
        {
            for (int i = 1; i < ids.Length; i++)
                if (ids[i] > ids[best]) best = i;
            return best;
        }
        int at = ids.IndexOf(Config.EosTokenId);
        return at < 0 ? 0 : at;
    }

    private void EncodeInto(Span<float> embeds, ReadOnlySpan<int> ids, KernelContext ctx)
    {
        Span<float> pooled = _state.XNorm.AsSpan(0, Config.HiddenSize); // free once the encoder is done
        Pool(pooled, ids, ctx);
        MatMul.Forward(embeds, pooled, 1, Weights.Projection, ctx);
    }

    private void Pool(Span<float> pooled, ReadOnlySpan<int> ids, KernelContext ctx)
    {
        ClipTextConfig c = Config;
        int n = ids.Length, d = c.HiddenSize;
        if (n == 0) throw new FurnaceException("no tokens to encode");
        if (n > c.MaxPositions) throw new FurnaceException($"{n} tokens exceed the CLIP text context of {c.MaxPositions}");
        ClipEncoderState s = _state;
        for (int i = 0; i < n; i++)
        {
            if ((uint)ids[i] >= (uint)c.VocabSize) throw new FurnaceException($"token id {ids[i]} is outside the vocabulary [0, {c.VocabSize})");
            Span<float> row = s.X.AsSpan(i * d, d);
            Dequantize.Row(row, Weights.TokenEmbedding, ids[i]);
        }
        Ops.Add(s.X.AsSpan(0, n * d), Weights.PositionEmbedding.AsSpan(0, n * d));
        ClipEncoder.Run(Weights.Layers, 0, c.Layers, s, 1, n, causal: true, c.Heads, c.LayerNormEps, c.Activation, ctx);
        int at = PoolingIndex(ids);
        Ops.LayerNorm(pooled, s.X.AsSpan(at * d, d), Weights.FinalNormWeight, Weights.FinalNormBias, c.LayerNormEps);
    }
}
