// Q4_1, Q5_0, Q5_1 and IQ4_NL blocks for MatMulQuant: each block's 32 weights as unsigned bytes in element order.
// Byte layouts follow ggml-common.h (block_q4_1, block_q5_0, block_q5_1, block_iq4_nl); the element values follow
// ggml-cpu quants.c ggml_vec_dot_q4_1_q8_1 / q5_0_q8_0 / q5_1_q8_1 / iq4_nl_q8_0 (generic versions):
//   Q4_1 (20 bytes): f16 d | f16 m | 16 bytes of nibbles (low: elements 0..15, high: 16..31); value = d * q + m
//   Q5_0 (22 bytes): f16 d | u32 qh (bit e: fifth bit of element e) | 16 bytes of nibbles; value = d * (q - 16)
//   Q5_1 (24 bytes): f16 d | f16 m | u32 qh | 16 bytes of nibbles; value = d * q + m
//   IQ4_NL (18 bytes): f16 d | 16 bytes of table indices; value = d * kvalues_iq4nl[index]
// Written from ggml's published formulas (no llama.cpp source copied); checked against the ggml-cpu shipped in
// LLamaSharp.Backend.Cpu 0.30.0 (tests/Furnace.Oracle.Tests/QuantKernelOracleTests.cs).
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Furnace.Tensors;

internal static unsafe class Block32
{
    // 16 bytes at qs -> 32 nibbles in element order (low nibbles, then high)
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Nibbles(byte* qs)
    {
        if (Avx2.IsSupported)
        {
            Vector256<uint> both = Avx2.BroadcastVector128ToVector256(qs).AsUInt32();
            Vector256<uint> shifted = Avx2.ShiftRightLogicalVariable(both, Vector256.Create(0u, 0, 0, 0, 4, 4, 4, 4));
            return shifted.AsByte() & Vector256.Create((byte)0x0F);
        }
        Vector128<byte> v = Vector128.Load(qs);
        Vector128<byte> m = Vector128.Create((byte)0x0F);
        return Vector256.Create(v & m, Vector128.ShiftRightLogical(v, 4));
    }

    // the 32 bits of qh -> 0x10 in byte e where bit e is set
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> FifthBits(byte* qh)
    {
        Vector256<byte> bits = Vector256.Create(*(uint*)qh).AsByte();
        Vector256<byte> spread = Avx2.IsSupported
            ? Avx2.Shuffle(bits, Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3))
            : Vector256.Shuffle(bits, Vector256.Create((byte)0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3));
        Vector256<byte> mask = Vector256.Create(0x8040201008040201UL).AsByte();
        return Vector256.Equals(spread & mask, mask) & Vector256.Create((byte)0x10);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NibbleScalar(byte* qs, int j) => j < 16 ? qs[j] & 0x0F : qs[j - 16] >> 4;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int FifthScalar(byte* qh, int j) => (int)((*(uint*)qh >> j) & 1) << 4;
}

internal readonly unsafe struct Q4_1Block : IQuantBlock
{
    public static int BlockBytes => 20;

    public static int Offset => 0;

    public static bool HasMin => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unsigned(byte* blk) => Block32.Nibbles(blk + 4);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int UnsignedScalar(byte* blk, int j) => Block32.NibbleScalar(blk + 4, j);
}

internal readonly unsafe struct Q5_0Block : IQuantBlock
{
    public static int BlockBytes => 22;

    public static int Offset => 16;

    public static bool HasMin => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unsigned(byte* blk) => Block32.Nibbles(blk + 6) | Block32.FifthBits(blk + 2);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int UnsignedScalar(byte* blk, int j) => Block32.NibbleScalar(blk + 6, j) | Block32.FifthScalar(blk + 2, j);
}

internal readonly unsafe struct Q5_1Block : IQuantBlock
{
    public static int BlockBytes => 24;

    public static int Offset => 0;

    public static bool HasMin => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unsigned(byte* blk) => Block32.Nibbles(blk + 8) | Block32.FifthBits(blk + 4);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int UnsignedScalar(byte* blk, int j) => Block32.NibbleScalar(blk + 8, j) | Block32.FifthScalar(blk + 4, j);
}

internal readonly unsafe struct IQ4_NLBlock : IQuantBlock
{
    public static int BlockBytes => 18;

    public static int Offset => 128;

    public static bool HasMin => false;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<byte> Unsigned(byte* blk)
    {
        if (Avx2.IsSupported)
        {
            return Avx2.Shuffle(Vector256.Create(Iq4Table.Unsigned, Iq4Table.Unsigned), Block32.Nibbles(blk + 2));
        }
        byte* u = stackalloc byte[32];
        Iq4Table.Expand(blk + 2, u);
        return Vector256.Load(u);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int UnsignedScalar(byte* blk, int j) => Iq4Table.Values[Block32.NibbleScalar(blk + 2, j)] + 128;
}
