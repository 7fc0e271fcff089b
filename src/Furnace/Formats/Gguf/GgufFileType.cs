// general.file_type of a GGUF file: llama.cpp's llama_ftype (llama.h), for files whose 2-D weights are all of one type.
using Furnace.Tensors;

namespace Furnace.Formats.Gguf;

public static class GgufFileType
{
    /// <summary>The llama_ftype id of a file whose 2-D weights are all <paramref name="t"/> (0, ALL_F32, otherwise).</summary>
    public static uint OfSingleType(DType t) => t switch
    {
        DType.F16 => 1,
        DType.Q4_0 => 2,
        DType.Q4_1 => 3,
        DType.Q8_0 => 7,
        DType.Q5_0 => 8,
        DType.Q5_1 => 9,
        DType.Q2_K => 10,
        DType.Q3_K => 11, // LLAMA_FTYPE_MOSTLY_Q3_K_S: the _S variants are the ones with every weight of the one type
        DType.Q4_K => 14,
        DType.Q5_K => 16,
        DType.Q6_K => 18,
        DType.IQ4_NL => 25,
        DType.IQ4_XS => 30,
        DType.BF16 => 32,
        _ => 0,
    };
}
