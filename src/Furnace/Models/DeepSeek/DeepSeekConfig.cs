// The validated shape of a DeepSeek-V2 / V3 decoder (DeepSeek-AI 2024, "DeepSeek-V2", §2.1 MLA, §2.2 DeepSeekMoE;
// "DeepSeek-V3", §2.1.2 auxiliary-loss-free routing). Mirrors llama.cpp's hparams of LLM_ARCH_DEEPSEEK2
// (llama_model_deepseek2::load_arch_hparams, src/models/deepseek2.cpp at llama.cpp c0c7e147, the commit LLamaSharp 0.30.0 bundles):
// the GGUF keys are read and written in DeepSeekConfig.Gguf.cs, nowhere else.
namespace Furnace.Models.DeepSeek;

public enum ExpertGating
{
    /// <summary>DeepSeek-V2: probabilities = softmax over all router logits (llama.cpp gating func 1).</summary>
    Softmax = 1,

    /// <summary>DeepSeek-V3: probabilities = sigmoid of each logit (llama.cpp gating func 2).</summary>
    Sigmoid = 2,
}

/// <summary>
/// YaRN rope scaling (Peng et al. 2023) as llama.cpp applies it to DeepSeek's rope dims: frequencies interpolated by
/// 1/Factor with a ramp between the correction dims of BetaFast/BetaSlow over OriginalContext, and an attention
/// temperature mscale = 1 + 0.1·LogMultiplier·ln(Factor) that scales the KQ products by mscale².
/// </summary>
/// <param name="LogMultiplier">HF rope_scaling.mscale_all_dim (the GGUF stores 0.1 times it).</param>
/// <param name="AttnFactor">GGUF rope.scaling.attn_factor (1 when absent).</param>
/// <summary>How group-limited routing scores a group of experts.</summary>
public enum ExpertGroupScore
{
    /// <summary>The sum of its two best selection scores: llama.cpp (every deepseek2 GGUF) and HF DeepSeek-V3's noaux_tc.</summary>
    SumOfTopTwo,

    /// <summary>Its best score: HF DeepSeek-V2's group_limited_greedy (modeling_deepseek_v2.py MoEGate).</summary>
    Max,
}

public sealed record YarnScaling(float Factor, int OriginalContext, float LogMultiplier, float AttnFactor = 1f, float BetaFast = 32f, float BetaSlow = 1f);

public sealed partial record DeepSeekConfig
{
    public required int Dim { get; init; }

    public required int Layers { get; init; }

    public required int Heads { get; init; }

    public required int VocabSize { get; init; }

    public required int MaxPositions { get; init; }

    /// <summary>Rank of the query compression (V3, V2 236B); 0 = a plain q projection (V2-Lite).</summary>
    public int QLoraRank { get; init; }

    /// <summary>d_c: width of the compressed KV latent that the cache holds (512 in V2/V3).</summary>
    public required int KvLoraRank { get; init; }

    /// <summary>d_h: per-head query/key width without position (128 in V2/V3).</summary>
    public required int QkNopeDim { get; init; }

    /// <summary>d_h^R: per-head rotary width, shared by all heads on the key side (64).</summary>
    public required int QkRopeDim { get; init; }

    /// <summary>Per-head value width (128).</summary>
    public required int VHeadDim { get; init; }

    /// <summary>Hidden width of the dense FFN of the leading layers.</summary>
    public required int FfnDim { get; init; }

    /// <summary>The first LeadingDenseLayers layers have a dense FFN; the rest are MoE.</summary>
    public int LeadingDenseLayers { get; init; }

    public required int Experts { get; init; }

    public required int ExpertsUsed { get; init; }

    public int SharedExperts { get; init; }

    /// <summary>Hidden width of one routed expert (and of each shared expert).</summary>
    public required int ExpertFfnDim { get; init; }

    /// <summary>Routed weights are multiplied by this (V2-Lite 1.0, V3 2.5); 0 or 1 = no scaling, as llama.cpp.</summary>
    public float ExpertWeightsScale { get; init; } = 1f;

    /// <summary>Routed weights of the top-k are divided by their sum (V3).</summary>
    public bool ExpertWeightsNorm { get; init; }

    public ExpertGating Gating { get; init; } = ExpertGating.Softmax;

    /// <summary>Group-limited routing (V3: 8 groups, 4 used); 0 or 1 = none.</summary>
    public int ExpertGroups { get; init; }

    public int ExpertGroupsUsed { get; init; }

    /// <summary>Group scoring; GGUF files always sum the top two (llama.cpp), HF V2 directories take the max.</summary>
    public ExpertGroupScore GroupScore { get; init; } = ExpertGroupScore.SumOfTopTwo;

    public float RmsEps { get; init; } = 1e-6f;

    public float RopeTheta { get; init; } = 10000f;

    public YarnScaling? Yarn { get; init; }

    public bool TiedEmbeddings { get; init; }

    /// <summary>
    /// Multi-head Latent Attention (V2 / V3). False: plain multi-head attention (DeepSeek-MoE-16B, llama.cpp arch
    /// "deepseek"; deepseek-vl2-tiny's use_mla false) — then KvLoraRank = QkNopeDim = 0, QkRopeDim = VHeadDim = the head
    /// width (RoPE over the whole head) and the cache holds per-head keys and values (DeepSeekMhaAttention).
    /// </summary>
    public bool Mla { get; init; } = true;

    /// <summary>Key/value heads of plain attention (grouped-query when fewer than Heads); ignored with MLA.</summary>
    public int KvHeads { get; init; }

    /// <summary>RoPE rotates the pairs (i, i + d/2) (transformers' rotate_half on unpermuted HF q/k) instead of adjacent pairs.</summary>
    public bool RopeNeox { get; init; }

    /// <summary>The GGUF general.architecture of this shape: deepseek2 (MLA) or deepseek (plain attention).</summary>
    public string Architecture => Mla ? Arch : MhaArch;

    /// <summary>Per-head query width = QkNopeDim + QkRopeDim (the MLA "key_length_mla").</summary>
    public int QkHeadDim => QkNopeDim + QkRopeDim;

    /// <summary>Width of one cached row: the latent and the shared rope key (MLA), or every kv head's key and value.</summary>
    public int CacheRowDim => Mla ? KvLoraRank + QkRopeDim : 2 * KvHeads * QkHeadDim;

    public bool IsMoeLayer(int layer) => layer >= LeadingDenseLayers;

    /// <summary>Checks every field; throws a FurnaceException naming the first bad one and where it came from.</summary>
    public DeepSeekConfig Validated(string source)
    {
        void Need(bool ok, string what)
        {
            if (!ok) throw new FurnaceException($"{source}: {what}");
        }

        Need(Dim > 0, $"hidden size {Dim} must be positive");
        Need(Layers > 0 && Layers <= 1024, $"layer count {Layers} is out of range");
        Need(Heads > 0, $"head count {Heads} must be positive");
        Need(VocabSize > 0, $"vocab size {VocabSize} must be positive");
        Need(MaxPositions > 0, $"context length {MaxPositions} must be positive");
        Need(QLoraRank >= 0, $"q_lora_rank {QLoraRank} must not be negative");
        if (Mla)
        {
            Need(KvLoraRank > 0, $"kv_lora_rank {KvLoraRank} must be positive");
            Need(QkNopeDim > 0, $"qk_nope_head_dim {QkNopeDim} must be positive");
        }
        else
        {
            Need(QLoraRank == 0 && KvLoraRank == 0 && QkNopeDim == 0, "plain attention has no q/kv LoRA and rotates the whole head");
            Need(VHeadDim == QkRopeDim, $"value head width {VHeadDim} differs from the key head width {QkRopeDim}");
            Need(KvHeads > 0 && Heads % KvHeads == 0, $"key/value head count {KvHeads} does not divide the head count {Heads}");
        }
        Need(QkRopeDim > 0 && QkRopeDim % 2 == 0, $"qk_rope_head_dim {QkRopeDim} must be positive and even");
        Need(VHeadDim > 0, $"v_head_dim {VHeadDim} must be positive");
        Need(LeadingDenseLayers >= 0 && LeadingDenseLayers <= Layers, $"leading dense block count {LeadingDenseLayers} is outside [0, {Layers}]");
        Need(LeadingDenseLayers == 0 || FfnDim > 0, $"dense feed-forward length {FfnDim} must be positive");
        bool moe = LeadingDenseLayers < Layers;
        Need(!moe || Experts > 0, $"expert count {Experts} must be positive");
        Need(!moe || (ExpertsUsed > 0 && ExpertsUsed <= Experts), $"expert used count {ExpertsUsed} is outside [1, {Experts}]");
        Need(!moe || ExpertFfnDim > 0, $"expert feed-forward length {ExpertFfnDim} must be positive");
        Need(SharedExperts >= 0, $"shared expert count {SharedExperts} must not be negative");
        Need(ExpertWeightsScale >= 0, $"expert weights scale {ExpertWeightsScale} must not be negative");
        Need(Gating is ExpertGating.Softmax or ExpertGating.Sigmoid, $"expert gating function {(int)Gating} is not supported (1 softmax, 2 sigmoid)");
        if (ExpertGroups > 1)
        {
            Need(Experts % ExpertGroups == 0, $"expert count {Experts} is not a multiple of the group count {ExpertGroups}");
            Need(Experts / ExpertGroups >= 2, $"group-limited routing needs at least 2 experts per group ({Experts}/{ExpertGroups})");
            Need(ExpertGroupsUsed > 0 && ExpertGroupsUsed <= ExpertGroups, $"expert group used count {ExpertGroupsUsed} is outside [1, {ExpertGroups}]");
            Need(ExpertGroupsUsed * (Experts / ExpertGroups) >= ExpertsUsed, $"{ExpertGroupsUsed} groups of {Experts / ExpertGroups} experts cannot hold the {ExpertsUsed} used experts");
        }
        Need(RmsEps > 0 && RmsEps < 1, $"rms eps {RmsEps} is out of range");
        Need(RopeTheta > 0, $"rope theta {RopeTheta} must be positive");
        if (Yarn is { } y)
        {
            Need(y.Factor >= 1, $"yarn factor {y.Factor} must be >= 1");
            Need(y.OriginalContext > 0, $"yarn original context length {y.OriginalContext} must be positive");
        }
        return this;
    }

    /// <summary>Parameter count (weights only; all experts).</summary>
    public long ParameterCount
    {
        get
        {
            long attn = !Mla ? (long)Dim * QkHeadDim * (Heads * 2L + 2L * KvHeads) + 2L * Dim
                : (QLoraRank > 0 ? (long)Dim * QLoraRank + QLoraRank + (long)QLoraRank * Heads * QkHeadDim : (long)Dim * Heads * QkHeadDim)
                + (long)Dim * CacheRowDim + KvLoraRank
                + (long)Heads * KvLoraRank * (QkNopeDim + VHeadDim)
                + (long)Heads * VHeadDim * Dim + 2L * Dim;
            long dense = 3L * Dim * FfnDim;
            long moe = (long)Dim * Experts + 3L * Dim * ExpertFfnDim * (Experts + SharedExperts);
            return (long)VocabSize * Dim * (TiedEmbeddings ? 1 : 2) + Dim
                + Layers * attn + LeadingDenseLayers * dense + (long)(Layers - LeadingDenseLayers) * moe;
        }
    }

    /// <summary>KV-cache bytes per token (f32) of the cache this model holds, and what plain multi-head attention would hold.</summary>
    public (long Mla, long Mha) KvBytesPerToken => (4L * Layers * CacheRowDim, 4L * Layers * Heads * (QkHeadDim + VHeadDim));

    /// <summary>Named shapes (weights not included): the real models, and small ones in their proportions for tests.</summary>
    public static DeepSeekConfig Preset(string name) => name switch
    {
        "deepseek-v2-lite" => new()
        {
            Dim = 2048, Layers = 27, Heads = 16, VocabSize = 102400, MaxPositions = 163840, QLoraRank = 0, KvLoraRank = 512,
            QkNopeDim = 128, QkRopeDim = 64, VHeadDim = 128, FfnDim = 10944, LeadingDenseLayers = 1, Experts = 64, ExpertsUsed = 6,
            SharedExperts = 2, ExpertFfnDim = 1408, ExpertWeightsScale = 1f, Gating = ExpertGating.Softmax, RmsEps = 1e-6f,
            Yarn = new YarnScaling(40f, 4096, 0.707f),
        },
        "deepseek-v3" => new()
        {
            Dim = 7168, Layers = 61, Heads = 128, VocabSize = 129280, MaxPositions = 163840, QLoraRank = 1536, KvLoraRank = 512,
            QkNopeDim = 128, QkRopeDim = 64, VHeadDim = 128, FfnDim = 18432, LeadingDenseLayers = 3, Experts = 256, ExpertsUsed = 8,
            SharedExperts = 1, ExpertFfnDim = 2048, ExpertWeightsScale = 2.5f, ExpertWeightsNorm = true, Gating = ExpertGating.Sigmoid,
            ExpertGroups = 8, ExpertGroupsUsed = 4, RmsEps = 1e-6f, Yarn = new YarnScaling(40f, 4096, 1f),
        },
        // The speed issue's mid-size benchmark shape: dim 1024, 6 layers, 16 routed experts (4 used) + 1 shared, expert
        // FFN 768 (a multiple of 256, so K-quant recipes need no fallbacks), no q LoRA, softmax routing.
        "bench-moe" => new()
        {
            Dim = 1024, Layers = 6, Heads = 16, VocabSize = 32000, MaxPositions = 4096, QLoraRank = 0, KvLoraRank = 256,
            QkNopeDim = 64, QkRopeDim = 32, VHeadDim = 64, FfnDim = 2816, LeadingDenseLayers = 1, Experts = 16, ExpertsUsed = 4,
            SharedExperts = 1, ExpertFfnDim = 768, ExpertWeightsScale = 1f, Gating = ExpertGating.Softmax, RmsEps = 1e-6f,
        },
        // V2-Lite in miniature: no q LoRA, softmax routing, 2 shared experts, one dense layer, YaRN.
        "test-v2-lite" => new()
        {
            Dim = 64, Layers = 3, Heads = 4, VocabSize = 320, MaxPositions = 512, QLoraRank = 0, KvLoraRank = 32,
            QkNopeDim = 32, QkRopeDim = 16, VHeadDim = 32, FfnDim = 160, LeadingDenseLayers = 1, Experts = 8, ExpertsUsed = 3,
            SharedExperts = 2, ExpertFfnDim = 32, ExpertWeightsScale = 1f, Gating = ExpertGating.Softmax, RmsEps = 1e-6f,
            Yarn = new YarnScaling(4f, 128, 0.707f),
        },
        // V3 in miniature: q LoRA, sigmoid routing with a selection bias, normalised top-k scaled by 2.5, 4 groups of 4 (2 used).
        "test-v3" => new()
        {
            Dim = 64, Layers = 3, Heads = 4, VocabSize = 320, MaxPositions = 512, QLoraRank = 48, KvLoraRank = 32,
            QkNopeDim = 32, QkRopeDim = 16, VHeadDim = 32, FfnDim = 160, LeadingDenseLayers = 1, Experts = 16, ExpertsUsed = 4,
            SharedExperts = 1, ExpertFfnDim = 32, ExpertWeightsScale = 2.5f, ExpertWeightsNorm = true, Gating = ExpertGating.Sigmoid,
            ExpertGroups = 4, ExpertGroupsUsed = 2, RmsEps = 1e-6f, Yarn = new YarnScaling(4f, 128, 1f),
        },
        // DeepSeek-MoE-16B (llama.cpp arch "deepseek"): plain attention, 64 routed experts (6 used) + 2 shared, 1 dense layer
        "deepseek-moe-16b" => Plain(2048, 28, 16, 16, 102400, 4096, 10944, 1, 64, 6, 2, 1408),
        // the same in miniature, with grouped-query attention (4 heads, 2 kv heads) to exercise the sharing
        "test-mha" => Plain(64, 3, 4, 2, 320, 512, 160, 1, 8, 3, 2, 32),
        _ => throw new FurnaceException($"unknown deepseek preset '{name}' ({string.Join(", ", PresetNames)})"),
    };

    public static IReadOnlyList<string> PresetNames { get; } = ["deepseek-v2-lite", "deepseek-v3", "bench-moe", "test-v2-lite", "test-v3", "deepseek-moe-16b", "test-mha"];

    private static DeepSeekConfig Plain(int dim, int layers, int heads, int kvHeads, int vocab, int ctx, int ffn, int dense, int experts, int used, int shared, int expFfn) => new()
    {
        Dim = dim, Layers = layers, Heads = heads, KvHeads = kvHeads, VocabSize = vocab, MaxPositions = ctx, Mla = false,
        KvLoraRank = 0, QkNopeDim = 0, QkRopeDim = dim / heads, VHeadDim = dim / heads, FfnDim = ffn, LeadingDenseLayers = dense,
        Experts = experts, ExpertsUsed = used, SharedExperts = shared, ExpertFfnDim = expFfn, ExpertWeightsScale = 1f,
        Gating = ExpertGating.Softmax, RmsEps = 1e-6f,
    };
}
