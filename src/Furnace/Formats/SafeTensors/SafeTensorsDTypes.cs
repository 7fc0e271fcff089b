// The dtype names of the safetensors header ("F32", "BF16", "I64", ...) with their element sizes, and the
// ones Furnace can compute with. Mirrors the `Dtype` enum of huggingface/safetensors (safetensors/src/tensor.rs):
// its declaration order is the writer's "alignment" order, used to sort tensors (largest first).
using Furnace.Tensors;

namespace Furnace.Formats.SafeTensors;

public static class SafeTensorsDTypes
{
    // (name, bits per element), in the Rust enum's declaration order.
    private static readonly (string Name, int Bits)[] Known =
    [
        ("BOOL", 8), ("F4", 4), ("F6_E2M3", 6), ("F6_E3M2", 6), ("U8", 8), ("I8", 8), ("F8_E5M2", 8), ("F8_E4M3", 8),
        ("F8_E8M0", 8), ("I16", 16), ("U16", 16), ("F16", 16), ("BF16", 16), ("I32", 32), ("U32", 32), ("F32", 32),
        ("F64", 64), ("I64", 64), ("U64", 64),
    ];

    private static readonly Dictionary<string, int> Rank = Known.Select((k, i) => (k.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);

    public static IEnumerable<string> Names => Known.Select(k => k.Name);

    public static bool IsKnown(string name) => Rank.ContainsKey(name);

    /// <summary>Bits per element of a known dtype name (4 for F4, 6 for the F6 types, 8..64 otherwise).</summary>
    public static int Bits(string name) => Known[Rank[name]].Bits;

    /// <summary>Position in the writer's sort order; larger sorts first.</summary>
    public static int AlignmentRank(string name) => Rank[name];

    /// <summary>The Furnace dtype of a safetensors dtype name, or null if Furnace cannot compute with it.</summary>
    public static DType? ToDType(string name) => name switch
    {
        "F32" => DType.F32,
        "F16" => DType.F16,
        "BF16" => DType.BF16,
        _ => null,
    };

    public static string FromDType(DType t) => t switch
    {
        DType.F32 => "F32",
        DType.F16 => "F16",
        DType.BF16 => "BF16",
        _ => throw new ArgumentException($"dtype {DTypes.Name(t)} cannot be stored in safetensors (F32, F16, BF16)", nameof(t)),
    };
}
