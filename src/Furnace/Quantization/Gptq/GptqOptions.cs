// Settings of one GPTQ solve (Frantar et al. 2022, "GPTQ: Accurate Post-Training Quantization for Generative
// Pre-trained Transformers", Section 4 and Algorithm 1; the reference is IST-DASLab/gptq gptq.py GPTQ.fasterquant).
namespace Furnace.Quantization.Gptq;

public sealed record GptqOptions
{
    /// <summary>Dampening λ = Damp · mean(diag H), added to diag H before the inverse (the reference's percdamp, 1 %).</summary>
    public double Damp { get; init; } = 0.01;

    /// <summary>Quantize columns in order of descending diag H ("act-order", the reference's --act-order).</summary>
    public bool ActOrder { get; init; }

    /// <summary>Columns per lazy batch B (Section 4 "Lazy Batch-Updates"; the reference's blocksize 128).</summary>
    public int BlockSize { get; init; } = 128;

    public void Validate()
    {
        if (!(Damp >= 0 && Damp < 1)) throw new FurnaceException($"--damp {Damp} must be in [0, 1)");
        if (BlockSize <= 0) throw new FurnaceException($"--gptq-block {BlockSize} must be positive");
    }
}
