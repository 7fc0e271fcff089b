// The validated shape of a Llama-family decoder (Llama 2/3, DeepSeek-LLM, DeepSeek-Coder, Qwen2 /
// DeepSeek-R1-Distill-Qwen). Built from an HF config.json or GGUF metadata; raw inputs stay nullable
// elsewhere, this record is always complete and consistent.
using Furnace.Tensors;

namespace Furnace.Models.Llama;

/// <summary>Llama-3 style "llama3" rope_scaling.</summary>
public sealed record Llama3RopeScaling(float Factor, float LowFreqFactor, float HighFreqFactor, int OriginalMaxPositions);

public sealed partial record LlamaConfig
{
    /// <summary>"llama" or "qwen2" (the GGUF general.architecture names).</summary>
    public required string Architecture { get; init; }

    public required int Dim { get; init; }

    public required int Layers { get; init; }

    public required int Heads { get; init; }

    public required int KvHeads { get; init; }

    public required int FfnDim { get; init; }

    public required int VocabSize { get; init; }

    /// <summary>Context length the model was trained for (max_position_embeddings / context_length).</summary>
    public required int MaxPositions { get; init; }

    public int HeadDim { get; init; }

    public float RmsEps { get; init; } = 1e-6f;

    public float RopeTheta { get; init; } = 10000f;

    public Llama3RopeScaling? RopeScaling { get; init; }

    /// <summary>Linear rope_scaling: positions are divided by this factor before rotation (DeepSeek-Coder: 4); 1 = none.</summary>
    public float RopeLinearFactor { get; init; } = 1f;

    /// <summary>Output projection shares the token embedding (Qwen2 small models, Llama 3.2).</summary>
    public bool TiedEmbeddings { get; init; }

    /// <summary>q/k/v projections carry biases (Qwen2).</summary>
    public bool AttentionBias { get; init; }

    public int QDim => Heads * HeadDim;

    public int KvDim => KvHeads * HeadDim;

    /// <summary>Checks every field; throws a FurnaceException naming the first bad one and where it came from.</summary>
    public LlamaConfig Validated(string source)
    {
        void Need(bool ok, string what)
        {
            if (!ok) throw new FurnaceException($"{source}: {what}");
        }

        Need(Architecture is "llama" or "qwen2", $"unknown architecture '{Architecture}' (llama and qwen2 are supported)");
        Need(Dim > 0, $"hidden size {Dim} must be positive");
        Need(Layers > 0 && Layers <= 1024, $"layer count {Layers} is out of range");
        Need(Heads > 0, $"head count {Heads} must be positive");
        Need(KvHeads > 0 && Heads % KvHeads == 0, $"kv head count {KvHeads} must divide head count {Heads}");
        Need(HeadDim > 0 && HeadDim % 2 == 0, $"head dim {HeadDim} must be positive and even");
        Need(FfnDim > 0, $"intermediate size {FfnDim} must be positive");
        Need(VocabSize > 0, $"vocab size {VocabSize} must be positive");
        Need(MaxPositions > 0, $"context length {MaxPositions} must be positive");
        Need(RmsEps > 0 && RmsEps < 1, $"rms eps {RmsEps} is out of range");
        Need(RopeTheta > 0, $"rope theta {RopeTheta} must be positive");
        Need(RopeLinearFactor > 0, $"linear rope scaling factor {RopeLinearFactor} must be positive");
        Need(RopeScaling == null || RopeLinearFactor == 1f, "llama3 and linear rope scaling cannot both be set");
        return this;
    }

    public RopeStyle RopeStyle => Architecture == "qwen2" ? RopeStyle.HalfSplit : RopeStyle.Interleaved;

    /// <summary>Rough parameter count (weights only).</summary>
    public long ParameterCount =>
        (long)VocabSize * Dim * (TiedEmbeddings ? 1 : 2)
        + (long)Layers * ((long)Dim * QDim * 2 + (long)Dim * KvDim * 2 + 3L * Dim * FfnDim + 2L * Dim)
        + Dim;

    /// <summary>Named shapes of well-known models (weights not included) for benchmarks and tests.</summary>
    public static LlamaConfig Preset(string name) => name switch
    {
        "test-tiny" => new() { Architecture = "llama", Dim = 64, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 16, FfnDim = 96, VocabSize = 320, MaxPositions = 256, RmsEps = 1e-5f },
        "bench-768" => new() { Architecture = "llama", Dim = 768, Layers = 12, Heads = 12, KvHeads = 12, HeadDim = 64, FfnDim = 2048, VocabSize = 32000, MaxPositions = 2048, RmsEps = 1e-5f },
        "tinyllama-1.1b" => new() { Architecture = "llama", Dim = 2048, Layers = 22, Heads = 32, KvHeads = 4, HeadDim = 64, FfnDim = 5632, VocabSize = 32000, MaxPositions = 2048, RmsEps = 1e-5f },
        "deepseek-llm-7b" => new() { Architecture = "llama", Dim = 4096, Layers = 30, Heads = 32, KvHeads = 32, HeadDim = 128, FfnDim = 11008, VocabSize = 102400, MaxPositions = 4096, RmsEps = 1e-6f },
        "deepseek-llm-67b" => new() { Architecture = "llama", Dim = 8192, Layers = 95, Heads = 64, KvHeads = 8, HeadDim = 128, FfnDim = 22016, VocabSize = 102400, MaxPositions = 4096, RmsEps = 1e-6f },
        "deepseek-r1-distill-qwen-1.5b" => new() { Architecture = "qwen2", Dim = 1536, Layers = 28, Heads = 12, KvHeads = 2, HeadDim = 128, FfnDim = 8960, VocabSize = 151936, MaxPositions = 131072, RmsEps = 1e-6f, RopeTheta = 10000f, AttentionBias = true },
        _ => throw new FurnaceException($"unknown preset '{name}' (test-tiny, bench-768, tinyllama-1.1b, deepseek-llm-7b, deepseek-llm-67b, deepseek-r1-distill-qwen-1.5b)"),
    };
}
