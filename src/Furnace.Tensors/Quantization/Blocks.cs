// ggml's block-quantized layouts, byte for byte (ggml-common.h: block_q8_0, block_q4_0).
// Q8_0: f16 scale d + 32 int8; value = q * d.
// Q4_0: f16 scale d + 16 bytes; byte j holds element j (low nibble) and element j+16 (high nibble); value = (q - 8) * d.
using System.Runtime.InteropServices;

namespace Furnace.Tensors;

[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_0
{
    public const int Size = 34;
    public const int Count = 32;
    public Half D;
    public fixed sbyte Qs[32];
}

[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_0
{
    public const int Size = 18;
    public const int Count = 32;
    public Half D;
    public fixed byte Qs[16];
}
