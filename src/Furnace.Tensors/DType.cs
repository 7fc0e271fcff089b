// Element types of stored tensors. The numeric values are ggml's `ggml_type` ids, so a GGUF tensor-info
// type field maps straight onto this enum (ggml.h: GGML_TYPE_F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6,
// Q5_1 = 7, Q8_0 = 8, Q2_K = 10 … Q6_K = 14, Q8_K = 15, IQ4_NL = 20, IQ4_XS = 23, BF16 = 30).
// Block sizes and byte counts follow ggml-common.h (static_asserts there: block_q4_K is 144 bytes, …).
// Q8_K and Q8_1 are activation types of the dot products (K-quants and IQ4_XS; Q4_1 and Q5_1); no stored weight uses them.
namespace Furnace.Tensors;

public enum DType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ4_NL = 20,
    IQ4_XS = 23,
    BF16 = 30,
}

public static class DTypes
{
    /// <summary>Elements in a K-quant super-block (ggml QK_K).</summary>
    public const int SuperBlock = 256;

    /// <summary>Elements per block: 32 for the 32-block types, 256 for the K-quants and IQ4_XS, 1 for the float types.</summary>
    public static int BlockSize(DType t) => t switch
    {
        DType.Q4_0 or DType.Q4_1 or DType.Q5_0 or DType.Q5_1 or DType.Q8_0 or DType.Q8_1 or DType.IQ4_NL => 32,
        DType.Q2_K or DType.Q3_K or DType.Q4_K or DType.Q5_K or DType.Q6_K or DType.Q8_K or DType.IQ4_XS => SuperBlock,
        DType.F32 or DType.F16 or DType.BF16 => 1,
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown dtype"),
    };

    /// <summary>Bytes per block (per element for the float types).</summary>
    public static int BlockBytes(DType t) => t switch
    {
        DType.F32 => 4,
        DType.F16 or DType.BF16 => 2,
        DType.Q8_0 => BlockQ8_0.Size,
        DType.Q4_0 => BlockQ4_0.Size,
        DType.Q8_1 => BlockQ8_1.Size, // d, s = d * sum(q) (f16) + 32 int8
        DType.Q4_1 => 20,   // d, m (f16) + 16 bytes of nibbles
        DType.Q5_0 => 22,   // d (f16) + 4 bytes of fifth bits + 16 bytes of nibbles
        DType.Q5_1 => 24,   // d, m (f16) + 4 bytes of fifth bits + 16 bytes of nibbles
        DType.Q2_K => 84,   // 16 bytes of 4-bit scales/mins + 64 bytes of 2-bit codes + d, dmin (f16)
        DType.Q3_K => 110,  // 32 bytes of high bits + 64 bytes of 2-bit codes + 12 bytes of 6-bit scales + d (f16)
        DType.Q4_K => 144,  // d, dmin (f16) + 12 bytes of 6-bit scales/mins + 128 bytes of nibbles
        DType.Q5_K => 176,  // d, dmin (f16) + 12 bytes of scales/mins + 32 bytes of fifth bits + 128 bytes of nibbles
        DType.Q6_K => 210,  // 128 bytes of low nibbles + 64 bytes of high 2 bits + 16 int8 scales + d (f16)
        DType.Q8_K => 292,  // d (f32) + 256 int8 + 16 int16 sums of 16 codes
        DType.IQ4_NL => 18, // d (f16) + 16 bytes of table indices
        DType.IQ4_XS => 136, // d (f16) + scales_h (u16) + 4 bytes scales_l + 128 bytes of table indices
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "unknown dtype"),
    };

    /// <summary>Bytes of a row of <paramref name="n"/> elements; n must be a multiple of the block size.</summary>
    public static long RowBytes(DType t, long n)
    {
        int bs = BlockSize(t);
        if (n % bs != 0) throw new ArgumentException($"row length {n} is not a multiple of the {Name(t)} block size {bs}");
        return n / bs * BlockBytes(t);
    }

    public static bool IsKnown(int ggmlType) => Enum.IsDefined(typeof(DType), ggmlType);

    /// <summary>True for the block-quantized types (everything but F32, F16, BF16).</summary>
    public static bool IsQuantized(DType t) => t is not (DType.F32 or DType.F16 or DType.BF16);

    /// <summary>True for the types a stored weight may have (every known type but the activation types Q8_K and Q8_1).</summary>
    public static bool IsWeightType(DType t) => IsKnown((int)t) && t is not (DType.Q8_K or DType.Q8_1);

    /// <summary>The names of every stored weight type, for error messages: "f32, f16, q4_0, …".</summary>
    public static string WeightTypeNames => string.Join(", ", Enum.GetValues<DType>().Where(IsWeightType).Select(Name));

    /// <summary>
    /// The type llama-quantize stores a row in when its length is not a multiple of t's block size (llama-quant.cpp's
    /// fallback in the llama.cpp LLamaSharp 0.30 bundles, checked against its output: Q2_K/Q3_K to Q4_0, IQ4_XS to IQ4_NL,
    /// Q4_K to Q5_0, Q5_K to Q5_1, Q6_K to Q8_0, and F16 when even that does not fit or t has no fallback).
    /// </summary>
    public static DType ForRowLength(DType t, long n)
    {
        if (n % BlockSize(t) == 0) return t;
        DType f = t switch
        {
            DType.Q2_K or DType.Q3_K => DType.Q4_0,
            DType.IQ4_XS => DType.IQ4_NL,
            DType.Q4_K => DType.Q5_0,
            DType.Q5_K => DType.Q5_1,
            DType.Q6_K => DType.Q8_0,
            _ => DType.F16,
        };
        return n % BlockSize(f) == 0 ? f : DType.F16;
    }

    /// <summary>ggml's lower-case type name (ggml_type_name): "f32", "q4_K", "iq4_nl", …</summary>
    public static string Name(DType t) => t switch
    {
        DType.F32 => "f32",
        DType.F16 => "f16",
        DType.BF16 => "bf16",
        DType.Q8_0 => "q8_0",
        DType.Q4_0 => "q4_0",
        DType.Q4_1 => "q4_1",
        DType.Q5_0 => "q5_0",
        DType.Q5_1 => "q5_1",
        DType.Q2_K => "q2_K",
        DType.Q3_K => "q3_K",
        DType.Q4_K => "q4_K",
        DType.Q5_K => "q5_K",
        DType.Q6_K => "q6_K",
        DType.Q8_K => "q8_K",
        DType.Q8_1 => "q8_1",
        DType.IQ4_NL => "iq4_nl",
        DType.IQ4_XS => "iq4_xs",
        _ => t.ToString(),
    };

    /// <summary>Parses a type name case-insensitively (f32, f16, bf16, q8_0, q4_0 … q6_k, iq4_nl, iq4_xs; not the activation types q8_k, q8_1).</summary>
    public static bool TryParse(string name, out DType t)
    {
        foreach (DType c in Enum.GetValues<DType>())
        {
            if (c is not (DType.Q8_K or DType.Q8_1) && string.Equals(Name(c), name, StringComparison.OrdinalIgnoreCase))
            {
                t = c;
                return true;
            }
        }
        t = default;
        return false;
    }
}
