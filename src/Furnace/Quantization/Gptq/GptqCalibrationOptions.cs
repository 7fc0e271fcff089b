// Where GPTQ's calibration sequences come from (furnace quantize --calibration FILE --calib-samples N --calib-ctx N).
namespace Furnace.Quantization.Gptq;

public sealed record GptqCalibrationOptions
{
    /// <summary>A UTF-8 text file, tokenized and cut into windows.</summary>
    public required string Path { get; init; }

    /// <summary>Windows to draw (the reference's nsamples, 128).</summary>
    public int Samples { get; init; } = 128;

    /// <summary>Tokens per window (the reference's seqlen, 2048); at most the model's context; 0 = min(512, context).</summary>
    public int Length { get; init; }

    /// <summary>The window length for a model of the given context (an explicit Length beyond it is an error).</summary>
    public int LengthFor(int context) => Length == 0 ? Math.Min(512, context)
        : Length <= context ? Length : throw new FurnaceException($"--calib-ctx {Length} exceeds the model's context length {context}");

    public int Seed { get; init; } = 1;
}
