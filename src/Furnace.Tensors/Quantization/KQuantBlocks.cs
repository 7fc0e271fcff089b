// The remaining ggml block layouts, byte for byte as ggml-common.h declares them (block_q4_1, block_q5_0, block_q5_1,
// block_q8_1, block_iq4_nl with 32 elements; block_q2_K … block_q6_K, block_q8_K, block_iq4_xs with QK_K = 256).
// Field order is the struct order of ggml-common.h; Pack = 1 because ggml's structs have no padding (their
// static_asserts pin the sizes, and Furnace's tests pin ours: sizeof == DTypes.BlockBytes).
// Within a 32-block, byte j of qs holds element j (low nibble) and element j+16 (high nibble); the K-quants
// interleave differently (see each struct). Values are reconstructed by Dequantize (ggml dequantize_row_*).
using System.Runtime.InteropServices;

namespace Furnace.Tensors;

// value = q * d + m, q in 0..15
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_1
{
    public const int Size = 20;
    public Half D;
    public Half M;
    public fixed byte Qs[16];
}

// value = (q - 16) * d, q = 4 bits from qs | fifth bit j of qh (little-endian u32: bit j for element j)
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_0
{
    public const int Size = 22;
    public Half D;
    public fixed byte Qh[4];
    public fixed byte Qs[16];
}

// value = q * d + m, q in 0..31 split as in Q5_0
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_1
{
    public const int Size = 24;
    public Half D;
    public Half M;
    public fixed byte Qh[4];
    public fixed byte Qs[16];
}

// activation block of the Q4_1/Q5_1 dot products: value = q * d; S = d * sum(q) (f16), elements in order
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_1
{
    public const int Size = 36;
    public Half D;
    public Half S;
    public fixed sbyte Qs[32];
}

// value = d * kvalues_iq4nl[q], q in 0..15 arranged as in Q4_0
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ4_NL
{
    public const int Size = 18;
    public Half D;
    public fixed byte Qs[16];
}

// 16 sub-blocks of 16: scales[j] = scale (low nibble) | min (high nibble) of sub-block j;
// qs: 2 halves of 128 elements, each 32 bytes, shift 2s of byte l = element 32s + l (+128 for the second half);
// value = d * scale * q - dmin * min
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ2_K
{
    public const int Size = 84;
    public fixed byte Scales[16];
    public fixed byte Qs[64];
    public Half D;
    public Half Dmin;
}

// q = 2 low bits (qs, arranged as Q2_K) + high bit (hmask byte l, bit b = element 32b + l; set means "no -4");
// 16 6-bit scales packed in 12 bytes (low nibbles of sub-blocks 0..7 in bytes 0..7, of 8..15 in their high nibbles,
// top 2 bits in bytes 8..11); value = d * (scale - 32) * (q - 4)
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ3_K
{
    public const int Size = 110;
    public fixed byte Hmask[32];
    public fixed byte Qs[64];
    public fixed byte Scales[12];
    public Half D;
}

// 8 sub-blocks of 32 with 6-bit scales and mins packed in 12 bytes (get_scale_min_k4);
// qs: 4 chunks of 32 bytes, chunk c holds elements 64c + l (low nibble) and 64c + 32 + l (high nibble);
// value = d * scale * q - dmin * min
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_K
{
    public const int Size = 144;
    public Half D;
    public Half Dmin;
    public fixed byte Scales[12];
    public fixed byte Qs[128];
}

// as Q4_K plus a fifth bit: qh byte l, bit 2c = element 64c + l, bit 2c+1 = element 64c + 32 + l
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ5_K
{
    public const int Size = 176;
    public Half D;
    public Half Dmin;
    public fixed byte Scales[12];
    public fixed byte Qh[32];
    public fixed byte Qs[128];
}

// 16 sub-blocks of 16 with int8 scales; per half of 128 elements: ql 64 bytes (bytes l, l+32 hold elements
// l, l+32 in low nibbles and l+64, l+96 in high nibbles), qh 32 bytes (2 bits each of l, l+32, l+64, l+96);
// value = d * scale * (q - 32)
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ6_K
{
    public const int Size = 210;
    public fixed byte Ql[128];
    public fixed byte Qh[64];
    public fixed sbyte Scales[16];
    public Half D;
}

// activation block of the K-quant dot products: value = d * q (d is f32); Bsums[j] = sum of qs[16j .. 16j+15]
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_K
{
    public const int Size = 292;
    public float D;
    public fixed sbyte Qs[256];
    public fixed short Bsums[16];
}

// 8 sub-blocks of 32 with 6-bit scales: low 4 bits in ScalesL (sub-block 2i low nibble, 2i+1 high nibble), high
// 2 bits at bits 2j of ScalesH; qs arranged per sub-block as Q4_0; value = d * (scale - 32) * kvalues_iq4nl[q]
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockIQ4_XS
{
    public const int Size = 136;
    public Half D;
    public ushort ScalesH;
    public fixed byte ScalesL[4];
    public fixed byte Qs[128];
}

/// <summary>ggml's kvalues_iq4nl: the 16 levels of IQ4_NL / IQ4_XS, ascending.</summary>
public static class Iq4Nl
{
    public static ReadOnlySpan<sbyte> Values => [-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113];
}
