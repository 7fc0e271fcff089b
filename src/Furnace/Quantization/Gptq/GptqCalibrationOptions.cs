// Where GPTQ's calibration sequences come from (furnace quantize --calibration FILE --calib-samples N --calib-ctx N).
namespace Furnace.Quantization.Gptq;

public sealed record GptqCalibrationOptions
{
    /// <summary>A UTF-8 text file, tokenized and cut into windows.</summary>
    public required string Path { get; init; }

    /// <summary>Windows to draw (the reference's nsamples, 128).</summary>
    public int Samples { get; init; } = 128;

    /// <summary>Tokens per window (the reference's seqlen, 2048); at most the model's context.</summary>
    public int Length { get; init; } = 512;

    public int Seed { get; init; } = 1;
}
