// The in-memory form of an imported GPTQ / AWQ linear (QuantizedLinear.ToMatrix).
namespace Furnace.Formats.Quantized;

/// <summary>How a GPTQ / AWQ weight is held in memory: both forms hold exactly the checkpoint's values.</summary>
public enum HfQuantizedForm
{
    /// <summary>Q4_0 / Q8_0 / Q4_1 blocks where they represent the weight exactly (the quantized kernels, which also
    /// quantize activations as llama.cpp does), f32 otherwise.</summary>
    Lossless,

    /// <summary>Always f32: the float kernels, so logits equal those of the dequantized model.</summary>
    F32,
}
