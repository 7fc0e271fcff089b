// Element types of stored tensors. The numeric values are ggml's `ggml_type` ids, so a GGUF tensor-info
// type field maps straight onto this enum (ggml.h: GGML_TYPE_F32 = 0, F16 = 1, Q4_0 = 2, Q8_0 = 8, BF16 = 30).
namespace Furnace.Tensors;

public enum DType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q8_0 = 8,
    BF16 = 30,
}

public static class DTypes
{
    /// <summary>Elements per block: 32 for the block-quantized types, 1 otherwise.</summary>
    public static int BlockSize(DType t) => t switch
    {
        DType.Q4_0 or DType.Q8_0 => 32,
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

    public static string Name(DType t) => t switch
    {
        DType.F32 => "f32",
        DType.F16 => "f16",
        DType.BF16 => "bf16",
        DType.Q8_0 => "q8_0",
        DType.Q4_0 => "q4_0",
        _ => t.ToString(),
    };

    public static bool TryParse(string name, out DType t)
    {
        switch (name.ToLowerInvariant())
        {
            case "f32": t = DType.F32; return true;
            case "f16": t = DType.F16; return true;
            case "bf16": t = DType.BF16; return true;
            case "q8_0": t = DType.Q8_0; return true;
            case "q4_0": t = DType.Q4_0; return true;
            default: t = default; return false;
        }
    }
}
