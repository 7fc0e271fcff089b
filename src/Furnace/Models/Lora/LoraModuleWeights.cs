// The two low-rank factors of one adapted linear layer, float32, row-major as PEFT stores them:
// A = lora_A.weight (Rank, InFeatures), B = lora_B.weight (OutFeatures, Rank); the layer computes
// y = W·x + scale·B·(A·x), i.e. the weight update ΔW = scale·B·A (OutFeatures, InFeatures).
namespace Furnace.Models.Lora;

public sealed class LoraModuleWeights
{
    public LoraModuleWeights(int rank, int inFeatures, int outFeatures, float[] a, float[] b)
    {
        if (rank <= 0 || inFeatures <= 0 || outFeatures <= 0)
            throw new ArgumentException($"LoRA factors need positive dimensions (rank {rank}, in {inFeatures}, out {outFeatures})");
        if (a.Length != (long)rank * inFeatures) throw new ArgumentException($"lora_A has {a.Length} values, ({rank}, {inFeatures}) needs {(long)rank * inFeatures}");
        if (b.Length != (long)outFeatures * rank) throw new ArgumentException($"lora_B has {b.Length} values, ({outFeatures}, {rank}) needs {(long)outFeatures * rank}");
        Rank = rank;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        A = a;
        B = b;
    }

    public int Rank { get; }

    public int InFeatures { get; }

    public int OutFeatures { get; }

    /// <summary>(Rank, InFeatures), row-major.</summary>
    public float[] A { get; }

    /// <summary>(OutFeatures, Rank), row-major.</summary>
    public float[] B { get; }

    public long ParameterCount => A.LongLength + B.LongLength;

    /// <summary>
    /// PEFT's default initialisation (init_lora_weights=True): A ~ kaiming_uniform(a=√5) = U(−1/√in, 1/√in), B = 0,
    /// so the adapted model starts equal to the base. Seeded by (seed, module path).
    /// </summary>
    public static LoraModuleWeights Initial(LoraModule module, int rank, int seed)
    {
        float bound = 1f / MathF.Sqrt(module.InFeatures);
        var a = SeededUniform.Values((long)rank * module.InFeatures, seed, module.Path + ".lora_A", 0f, bound);
        return new LoraModuleWeights(rank, module.InFeatures, module.OutFeatures, a, new float[(long)module.OutFeatures * rank]);
    }

    /// <summary>Both factors random (A ~ U(±1/√in), B ~ U(±amplitude)): a non-trivial adapter for tests.</summary>
    public static LoraModuleWeights Random(LoraModule module, int rank, int seed, float amplitude = 0.05f)
    {
        float bound = 1f / MathF.Sqrt(module.InFeatures);
        var a = SeededUniform.Values((long)rank * module.InFeatures, seed, module.Path + ".lora_A", 0f, bound);
        var b = SeededUniform.Values((long)module.OutFeatures * rank, seed, module.Path + ".lora_B", 0f, amplitude);
        return new LoraModuleWeights(rank, module.InFeatures, module.OutFeatures, a, b);
    }

    /// <summary>ΔW = scale·B·A (OutFeatures, InFeatures), row-major, accumulated in double per element.</summary>
    public float[] Delta(float scale)
    {
        var d = new float[(long)OutFeatures * InFeatures];
        var row = new double[InFeatures];
        for (int o = 0; o < OutFeatures; o++)
        {
            Array.Clear(row);
            for (int k = 0; k < Rank; k++)
            {
                double bk = B[(long)o * Rank + k];
                if (bk == 0) continue;
                var ak = A.AsSpan(k * InFeatures, InFeatures);
                for (int i = 0; i < InFeatures; i++) row[i] += bk * ak[i];
            }
            var dst = d.AsSpan((int)((long)o * InFeatures), InFeatures);
            for (int i = 0; i < InFeatures; i++) dst[i] = (float)(scale * row[i]);
        }
        return d;
    }
}
