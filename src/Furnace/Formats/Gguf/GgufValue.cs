// One GGUF metadata value: a scalar, a string, or a homogeneous array (held as a typed .NET array:
// byte[], sbyte[], ushort[], short[], uint[], int[], float[], bool[], string[], ulong[], long[], double[];
// arrays of arrays are held as GgufValue[]).
using System.Globalization;

namespace Furnace.Formats.Gguf;

public sealed class GgufValue
{
    public GgufValue(GgufValueType type, object value, GgufValueType elementType = GgufValueType.UInt8)
    {
        Type = type;
        Value = value;
        ElementType = elementType;
    }

    public GgufValueType Type { get; }

    /// <summary>For arrays: the type of the elements.</summary>
    public GgufValueType ElementType { get; }

    public object Value { get; }

    public static GgufValue Of(string s) => new(GgufValueType.String, s);

    public static GgufValue Of(uint v) => new(GgufValueType.UInt32, v);

    public static GgufValue Of(int v) => new(GgufValueType.Int32, v);

    public static GgufValue Of(float v) => new(GgufValueType.Float32, v);

    public static GgufValue Of(bool v) => new(GgufValueType.Bool, v);

    public static GgufValue Of(ulong v) => new(GgufValueType.UInt64, v);

    public static GgufValue Of(string[] v) => new(GgufValueType.Array, v, GgufValueType.String);

    public static GgufValue Of(float[] v) => new(GgufValueType.Array, v, GgufValueType.Float32);

    public static GgufValue Of(int[] v) => new(GgufValueType.Array, v, GgufValueType.Int32);

    public bool IsArray => Type == GgufValueType.Array;

    public int ArrayLength => Value is Array a ? a.Length : 0;

    /// <summary>Any integer-typed scalar as long; null for other types.</summary>
    public long? AsInt64() => Value switch
    {
        byte v => v,
        sbyte v => v,
        ushort v => v,
        short v => v,
        uint v => v,
        int v => v,
        ulong v => v <= long.MaxValue ? (long)v : null,
        long v => v,
        _ => null,
    };

    public double? AsDouble() => Value switch
    {
        float v => v,
        double v => v,
        _ => AsInt64(),
    };

    public override string ToString() => Value switch
    {
        string s => s,
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        Array a => $"[{ElementType} x {a.Length}]",
        _ => Convert.ToString(Value, CultureInfo.InvariantCulture) ?? "",
    };
}
