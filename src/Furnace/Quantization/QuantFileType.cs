// llama.cpp's file types (llama.h `enum llama_ftype`): the values are llama.cpp's ids, written as general.file_type, and
// the names are llama-quantize's (tools/quantize/quantize.cpp QUANT_OPTIONS). Each names a recipe: a default weight type
// that QuantRecipe adjusts per tensor. Pinned to the llama.cpp bundled by LLamaSharp 0.30.0 (ggml 050fc7f).
using Furnace.Tensors;

namespace Furnace.Quantization;

public enum QuantFileType
{
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q8_0 = 7,
    Q5_0 = 8,
    Q5_1 = 9,
    Q2_K = 10,
    Q3_K_S = 11,
    Q3_K_M = 12,
    Q3_K_L = 13,
    Q4_K_S = 14,
    Q4_K_M = 15,
    Q5_K_S = 16,
    Q5_K_M = 17,
    Q6_K = 18,
    IQ4_NL = 25,
    IQ4_XS = 30,
    BF16 = 32,
}

public static class QuantFileTypes
{
    /// <summary>llama_ftype_get_default_type: the weight type a recipe starts every quantizable tensor from.</summary>
    public static DType DefaultType(QuantFileType f) => f switch
    {
        QuantFileType.F32 => DType.F32,
        QuantFileType.F16 => DType.F16,
        QuantFileType.BF16 => DType.BF16,
        QuantFileType.Q8_0 => DType.Q8_0,
        QuantFileType.Q4_0 => DType.Q4_0,
        QuantFileType.Q4_1 => DType.Q4_1,
        QuantFileType.Q5_0 => DType.Q5_0,
        QuantFileType.Q5_1 => DType.Q5_1,
        QuantFileType.Q2_K => DType.Q2_K,
        QuantFileType.Q3_K_S or QuantFileType.Q3_K_M or QuantFileType.Q3_K_L => DType.Q3_K,
        QuantFileType.Q4_K_S or QuantFileType.Q4_K_M => DType.Q4_K,
        QuantFileType.Q5_K_S or QuantFileType.Q5_K_M => DType.Q5_K,
        QuantFileType.Q6_K => DType.Q6_K,
        QuantFileType.IQ4_NL => DType.IQ4_NL,
        QuantFileType.IQ4_XS => DType.IQ4_XS,
        _ => throw new ArgumentOutOfRangeException(nameof(f), f, "unknown file type"),
    };

    /// <summary>llama-quantize's name: "Q4_K_M", "IQ4_XS", "F16", …</summary>
    public static string Name(QuantFileType f) => f.ToString();

    public static IReadOnlyList<QuantFileType> All { get; } = Enum.GetValues<QuantFileType>();

    /// <summary>The comma-separated list of names, for error messages and help.</summary>
    public static string Names => string.Join(", ", All.Select(Name));

    /// <summary>Parses a name case-insensitively; like llama-quantize, Q3_K, Q4_K and Q5_K mean their _M recipes.</summary>
    public static bool TryParse(string name, out QuantFileType f)
    {
        string n = name.Trim().ToUpperInvariant();
        n = n switch { "Q3_K" => "Q3_K_M", "Q4_K" => "Q4_K_M", "Q5_K" => "Q5_K_M", _ => n };
        foreach (var c in All)
        {
            if (Name(c) == n)
            {
                f = c;
                return true;
            }
        }
        f = default;
        return false;
    }
}
