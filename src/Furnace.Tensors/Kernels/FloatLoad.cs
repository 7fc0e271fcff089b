// Loading stored float rows (F32, F16, BF16) as f32 vectors, so one generic kernel serves all three.
// The JIT specialises each kernel per loader struct, so the switch on the dtype costs nothing inside loops.
// F16 widening is done with integer ops (.NET exposes no vcvtph2ps): exponent/mantissa shifted into f32 position and
// rescaled by 2^112, which also handles subnormals exactly; Inf/NaN get the all-ones exponent back.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Furnace.Tensors;

internal unsafe interface IFloatLoad
{
    static abstract int ElementBytes { get; }

    static abstract Vector512<float> Load512(byte* row, int i);

    static abstract Vector256<float> Load256(byte* row, int i);

    static abstract float Load1(byte* row, int i);
}

internal readonly unsafe struct F32Load : IFloatLoad
{
    public static int ElementBytes => 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* row, int i) => Vector512.Load((float*)row + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* row, int i) => Vector256.Load((float*)row + i);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int i) => ((float*)row)[i];
}

internal readonly unsafe struct BF16Load : IFloatLoad
{
    public static int ElementBytes => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* row, int i)
        => Vector512.ShiftLeft(Vector512.WidenLower(Vector256.Load((ushort*)row + i).ToVector512Unsafe()), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* row, int i)
        => Vector256.ShiftLeft(Vector256.WidenLower(Vector128.Load((ushort*)row + i).ToVector256Unsafe()), 16).AsSingle();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int i) => BitConverter.Int32BitsToSingle(((ushort*)row)[i] << 16);
}

internal readonly unsafe struct F16Load : IFloatLoad
{
    public static int ElementBytes => 2;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Load512(byte* row, int i)
    {
        Vector512<uint> h = Vector512.WidenLower(Vector256.Load((ushort*)row + i).ToVector512Unsafe());
        Vector512<uint> em = (h & Vector512.Create(0x7fffu)) << 13;
        Vector512<float> f = em.AsSingle() * Vector512.Create(0x77800000u).AsSingle() /* 2^112 */;
        Vector512<uint> infNan = Vector512.GreaterThanOrEqual(h & Vector512.Create(0x7fffu), Vector512.Create(0x7c00u));
        Vector512<uint> bits = Vector512.ConditionalSelect(infNan, em | Vector512.Create(0x7f800000u), f.AsUInt32());
        return (bits | ((h & Vector512.Create(0x8000u)) << 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Load256(byte* row, int i)
    {
        Vector256<uint> h = Vector256.WidenLower(Vector128.Load((ushort*)row + i).ToVector256Unsafe());
        Vector256<uint> em = (h & Vector256.Create(0x7fffu)) << 13;
        Vector256<float> f = em.AsSingle() * Vector256.Create(0x77800000u).AsSingle() /* 2^112 */;
        Vector256<uint> infNan = Vector256.GreaterThanOrEqual(h & Vector256.Create(0x7fffu), Vector256.Create(0x7c00u));
        Vector256<uint> bits = Vector256.ConditionalSelect(infNan, em | Vector256.Create(0x7f800000u), f.AsUInt32());
        return (bits | ((h & Vector256.Create(0x8000u)) << 16)).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Load1(byte* row, int i) => HalfTable.ToSingle(((ushort*)row)[i]);
}

/// <summary>f16 bits -> f32 by table (ggml_table_f32_f16): one load, used for block scales in the quantized dots.</summary>
internal static unsafe class HalfTable
{
    private static readonly float* Table = Build();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits) => Table[bits];

    /// <summary>The table itself; hot loops read it into a local once so no class-init check sits inside them.</summary>
    public static float* Pointer => Table;

    private static float* Build()
    {
        var t = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(65536 * sizeof(float), 64);
        for (int i = 0; i < 65536; i++) t[i] = (float)BitConverter.UInt16BitsToHalf((ushort)i);
        return t;
    }
}
