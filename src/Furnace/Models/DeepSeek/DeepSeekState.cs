// Activation buffers and the latent KV cache of one DeepSeek sequence (llama2.c's RunState), sized once for a context
// length and a prefill chunk of MaxBatch rows so that decoding allocates nothing. The cache holds, per layer and
// token, only what MLA needs (DeepSeek-V2 §2.1.2): the normalised latent c_KV (kvLora) and the roped shared key
// k^R (rope) — llama.cpp's MLA cache row [kv_cmpr, k_pe] — instead of heads·(qkHead + vHead) floats of plain MHA.
namespace Furnace.Models.DeepSeek;

public sealed class DeepSeekState : IDecoderState
{
    public DeepSeekState(DeepSeekConfig c, int contextLength, int maxBatch = 64)
    {
        if (contextLength <= 0) throw new FurnaceException($"context length {contextLength} must be positive");
        if (maxBatch <= 0) throw new FurnaceException($"batch size {maxBatch} must be positive");
        ContextLength = contextLength;
        MaxBatch = maxBatch;
        int n = maxBatch, h = c.Heads;
        Latent = new float[c.Layers][];
        RopeKey = new float[c.Layers][];
        for (int l = 0; l < c.Layers; l++)
        {
            Latent[l] = new float[(long)contextLength * c.KvLoraRank];
            RopeKey[l] = new float[(long)contextLength * (c.Mla ? c.QkRopeDim : 0)];
        }
        int kvDim = c.Mla ? 0 : c.KvHeads * c.QkHeadDim;
        KeyCache = new float[c.Layers][];
        ValueCache = new float[c.Layers][];
        for (int l = 0; l < c.Layers; l++)
        {
            KeyCache[l] = new float[(long)contextLength * kvDim];
            ValueCache[l] = new float[(long)contextLength * kvDim];
        }
        int ffn = Math.Max(c.FfnDim, Math.Max(c.ExpertFfnDim, c.ExpertFfnDim * c.SharedExperts));
        X = new float[n * c.Dim];
        XNorm = new float[n * c.Dim];
        QA = new float[n * Math.Max(1, c.QLoraRank)];
        Q = new float[n * h * c.QkHeadDim];
        Kv = new float[n * c.CacheRowDim];
        QAbs = new float[n * h * c.KvLoraRank];
        HeadIn = new float[n * Math.Max(c.QkNopeDim, c.KvLoraRank)];
        HeadOut = new float[n * Math.Max(c.KvLoraRank, c.VHeadDim)];
        Scores = new float[contextLength];
        LatentOut = new float[n * h * c.KvLoraRank];
        AttnOut = new float[n * h * c.VHeadDim];
        Proj = new float[n * c.Dim];
        Gate = new float[n * ffn];
        Up = new float[n * ffn];
        Moe = new float[n * c.Dim];
        MoeOut = new float[n * c.Dim];
        RouterLogits = new float[n * Math.Max(1, c.Experts)];
        Selection = new float[Math.Max(1, c.Experts)];
        GroupScores = new float[Math.Max(1, c.ExpertGroups)];
        Chosen = new int[n * Math.Max(1, c.ExpertsUsed)];
        ChosenWeights = new float[n * Math.Max(1, c.ExpertsUsed)];
        ExpertRows = new int[n];
        Logits = new float[(long)n * c.VocabSize];
    }

    public int ContextLength { get; }

    public int MaxBatch { get; }

    public int Position { get; set; }

    public float[][] Latent { get; }      // [layer] (ctx, kvLora) RMS-normalised c_KV
    public float[][] RopeKey { get; }     // [layer] (ctx, rope) roped k^R, shared by all heads
    public float[][] KeyCache { get; }    // [layer] (ctx, kvHeads·head) roped keys of plain attention (empty with MLA)
    public float[][] ValueCache { get; }  // [layer] (ctx, kvHeads·head) values of plain attention (empty with MLA)

    public float[] X { get; }             // (batch, dim) residual stream
    public float[] XNorm { get; }         // (batch, dim)
    public float[] QA { get; }            // (batch, qLora) compressed query
    public float[] Q { get; }             // (batch, heads, nope + rope)
    public float[] Kv { get; }            // (batch, kvLora + rope) output of attn_kv_a_mqa
    public float[] QAbs { get; }          // (batch, heads, kvLora) q_nope absorbed through W_UK
    public float[] HeadIn { get; }        // (batch, max(nope, kvLora)) one head's rows gathered for a per-head matmul
    public float[] HeadOut { get; }       // (batch, max(kvLora, vHead))
    public float[] Scores { get; }        // (ctx,) one head's attention weights
    public float[] LatentOut { get; }     // (batch, heads, kvLora) attention-weighted latents
    public float[] AttnOut { get; }       // (batch, heads, vHead)
    public float[] Proj { get; }          // (batch, dim)
    public float[] Gate { get; }          // (batch, ffn)
    public float[] Up { get; }            // (batch, ffn)
    public float[] Moe { get; }           // (batch, dim) the normalised rows routed to the expert being run
    public float[] MoeOut { get; }        // (batch, dim) that expert's (or the shared experts') output
    public float[] RouterLogits { get; }  // (batch, experts) router probabilities after gating
    public float[] Selection { get; }     // (experts,) one token's selection scores (biased, group-masked)
    public float[] GroupScores { get; }   // (groups,)
    public int[] Chosen { get; }          // (batch, used) expert ids
    public float[] ChosenWeights { get; } // (batch, used) their mixing weights
    public int[] ExpertRows { get; }      // (batch,) tokens routed to the expert being run
    public float[] Logits { get; }        // (batch, vocab)

    /// <summary>Bytes of the KV cache (f32): the latent cache, or plain attention's keys and values.</summary>
    public long KvCacheBytes => 4L * Latent.Length * (Latent[0].LongLength + RopeKey[0].LongLength + KeyCache[0].LongLength + ValueCache[0].LongLength);

    public void Reset() => Position = 0;
}
