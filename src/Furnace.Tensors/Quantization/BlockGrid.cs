// The fixed quantization grid of an encoded ggml block, and the inverse: integer codes written into a block whose
// header (scales, mins) is kept. This is what GPTQ (Frantar et al. 2022, Algorithm 1) needs to pick the codes itself
// against a grid chosen elsewhere: Read gives, per group of elements sharing a scale, the affine level map
//   value(q) = Scale * (q - Zero) - Min,  q in [Lo, Hi]
// evaluated in float with the same operations, in the same order, as Dequantize (ggml dequantize_row_*), so that
// LevelGrid.Value(q) == the decoded element bit for bit:
//   Q4_0  (q - 8) * d             Q8_0  q * d (q in -127..127: ggml's AVX2 dots negate int8, so -128 is never written)
//   Q4_1  q * d + m (Min = -m)    Q5_0  (q - 16) * d             Q5_1  q * d + m
//   Q2_K  (d * sc) * q - dmin * m per 16      Q3_K  (d * (sc - 32)) * (q - 4) per 16
//   Q4_K / Q5_K  (d * sc) * q - dmin * m per 32                  Q6_K  (d * sc) * (q - 32) per 16
// Code layouts follow ggml-common.h (see KQuantBlocks.cs / Blocks.cs); WriteCodes rewrites only the code bits.
namespace Furnace.Tensors;

/// <summary>The levels of one group of a block: value(q) = Scale * (q - Zero) - Min for integer q in [Lo, Hi].</summary>
public readonly record struct LevelGrid(float Scale, float Min, int Zero, int Lo, int Hi)
{
    /// <summary>The decoded value of code q, bit-exact with Dequantize.</summary>
    public float Value(int q) => Scale * (q - Zero) - Min;

    /// <summary>The code of the level nearest to w (round half to even of (w + Min) / Scale + Zero, clamped); Zero when Scale is 0.</summary>
    public int Nearest(double w)
    {
        if (Scale == 0) return Math.Clamp(Zero, Lo, Hi);
        double q = Math.Round((w + Min) / Scale) + Zero;
        return q <= Lo ? Lo : q >= Hi ? Hi : (int)q;
    }
}

public static unsafe class BlockGrid
{
    /// <summary>Whether Read/WriteCodes know type t.</summary>
    public static bool Supports(DType t) => t is DType.Q4_0 or DType.Q8_0 or DType.Q4_1 or DType.Q5_0 or DType.Q5_1
        or DType.Q2_K or DType.Q3_K or DType.Q4_K or DType.Q5_K or DType.Q6_K;

    /// <summary>Elements sharing one LevelGrid: 32 for the 32-blocks and Q4_K/Q5_K, 16 for Q2_K, Q3_K, Q6_K.</summary>
    public static int GroupSize(DType t) => t switch
    {
        DType.Q2_K or DType.Q3_K or DType.Q6_K => 16,
        _ when Supports(t) => 32,
        _ => throw new NotSupportedException($"{DTypes.Name(t)} has no GPTQ grid"),
    };

    /// <summary>grids (BlockSize(t) / GroupSize(t),) = the level maps of the encoded block.</summary>
    public static void Read(ReadOnlySpan<byte> block, DType t, Span<LevelGrid> grids)
    {
        Check(block.Length, t);
        int groups = DTypes.BlockSize(t) / GroupSize(t);
        if (grids.Length < groups) throw new ArgumentException($"grids holds {grids.Length}, need {groups}");
        fixed (byte* p = block)
        {
            switch (t)
            {
                case DType.Q4_0: grids[0] = new((float)((BlockQ4_0*)p)->D, 0, 8, 0, 15); break;
                case DType.Q8_0: grids[0] = new((float)((BlockQ8_0*)p)->D, 0, 0, -127, 127); break;
                case DType.Q4_1: grids[0] = new((float)((BlockQ4_1*)p)->D, -(float)((BlockQ4_1*)p)->M, 0, 0, 15); break;
                case DType.Q5_0: grids[0] = new((float)((BlockQ5_0*)p)->D, 0, 16, 0, 31); break;
                case DType.Q5_1: grids[0] = new((float)((BlockQ5_1*)p)->D, -(float)((BlockQ5_1*)p)->M, 0, 0, 31); break;
                case DType.Q2_K:
                {
                    var b = (BlockQ2_K*)p;
                    float d = (float)b->D, dmin = (float)b->Dmin;
                    for (int j = 0; j < 16; j++) grids[j] = new(d * (b->Scales[j] & 0xF), dmin * (b->Scales[j] >> 4), 0, 0, 3);
                    break;
                }
                case DType.Q3_K:
                {
                    var b = (BlockQ3_K*)p;
                    float d = (float)b->D;
                    for (int j = 0; j < 16; j++) grids[j] = new(d * (Dequantize.ScaleQ3K(j, new ReadOnlySpan<byte>(b->Scales, 12)) - 32), 0, 4, 0, 7);
                    break;
                }
                case DType.Q4_K or DType.Q5_K:
                {
                    var b = (BlockQ4_K*)p; // Q5_K starts with the same d, dmin, scales
                    float d = (float)b->D, dmin = (float)b->Dmin;
                    for (int j = 0; j < 8; j++)
                    {
                        Dequantize.ScaleMinK4(j, new ReadOnlySpan<byte>(b->Scales, 12), out int sc, out int m);
                        grids[j] = new(d * sc, dmin * m, 0, 0, t == DType.Q4_K ? 15 : 31);
                    }
                    break;
                }
                case DType.Q6_K:
                {
                    var b = (BlockQ6_K*)p;
                    float d = (float)b->D;
                    for (int j = 0; j < 16; j++) grids[j] = new(d * b->Scales[j], 0, 32, 0, 63);
                    break;
                }
            }
        }
    }

    /// <summary>Writes codes (BlockSize(t),), each within its group's [Lo, Hi], into the code bits of block; the header stays.</summary>
    public static void WriteCodes(Span<byte> block, DType t, ReadOnlySpan<int> codes)
    {
        Check(block.Length, t);
        if (codes.Length < DTypes.BlockSize(t)) throw new ArgumentException($"codes holds {codes.Length}, need {DTypes.BlockSize(t)}");
        fixed (byte* p = block)
        {
            switch (t)
            {
                case DType.Q4_0: Nibbles32(((BlockQ4_0*)p)->Qs, codes); break;
                case DType.Q4_1: Nibbles32(((BlockQ4_1*)p)->Qs, codes); break;
                case DType.Q8_0:
                    for (int j = 0; j < 32; j++) ((BlockQ8_0*)p)->Qs[j] = (sbyte)codes[j];
                    break;
                case DType.Q5_0: Fives32(((BlockQ5_0*)p)->Qs, ((BlockQ5_0*)p)->Qh, codes); break;
                case DType.Q5_1: Fives32(((BlockQ5_1*)p)->Qs, ((BlockQ5_1*)p)->Qh, codes); break;
                case DType.Q2_K: Twos256(((BlockQ2_K*)p)->Qs, codes); break;
                case DType.Q3_K:
                {
                    // hmask byte l bit b = element 32b + l has its third bit (value q - 4 with the bit, q - 4 - 4 without)
                    var b = (BlockQ3_K*)p;
                    Span<int> low = stackalloc int[256];
                    for (int j = 0; j < 32; j++) b->Hmask[j] = 0;
                    for (int j = 0; j < 256; j++)
                    {
                        low[j] = codes[j] & 3;
                        if (codes[j] > 3) b->Hmask[j % 32] |= (byte)(1 << (j / 32));
                    }
                    Twos256(b->Qs, low);
                    break;
                }
                case DType.Q4_K:
                {
                    byte* qs = ((BlockQ4_K*)p)->Qs;
                    for (int c = 0; c < 4; c++)
                        for (int l = 0; l < 32; l++) qs[32 * c + l] = (byte)(codes[64 * c + l] | (codes[64 * c + 32 + l] << 4));
                    break;
                }
                case DType.Q5_K:
                {
                    var b = (BlockQ5_K*)p;
                    for (int l = 0; l < 32; l++) b->Qh[l] = 0;
                    for (int c = 0; c < 4; c++)
                    {
                        for (int l = 0; l < 32; l++)
                        {
                            int lo = codes[64 * c + l], hi = codes[64 * c + 32 + l];
                            b->Qs[32 * c + l] = (byte)((lo & 0xF) | ((hi & 0xF) << 4));
                            b->Qh[l] |= (byte)(((lo >> 4) << (2 * c)) | ((hi >> 4) << (2 * c + 1)));
                        }
                    }
                    break;
                }
                case DType.Q6_K:
                {
                    // per half of 128: element l, l+32, l+64, l+96 -> ql[l] low, ql[l+32] low, ql[l] high, ql[l+32] high;
                    // their top 2 bits at qh[l] bits 0, 2, 4, 6
                    var b = (BlockQ6_K*)p;
                    for (int h = 0; h < 2; h++)
                    {
                        byte* ql = b->Ql + 64 * h, qh = b->Qh + 32 * h;
                        ReadOnlySpan<int> q = codes.Slice(128 * h, 128);
                        for (int l = 0; l < 32; l++)
                        {
                            ql[l] = (byte)((q[l] & 0xF) | ((q[l + 64] & 0xF) << 4));
                            ql[l + 32] = (byte)((q[l + 32] & 0xF) | ((q[l + 96] & 0xF) << 4));
                            qh[l] = (byte)((q[l] >> 4) | ((q[l + 32] >> 4) << 2) | ((q[l + 64] >> 4) << 4) | ((q[l + 96] >> 4) << 6));
                        }
                    }
                    break;
                }
            }
        }
    }

    private static void Check(int length, DType t)
    {
        if (!Supports(t)) throw new NotSupportedException($"{DTypes.Name(t)} has no GPTQ grid");
        if (length < DTypes.BlockBytes(t)) throw new ArgumentException($"block holds {length} bytes, {DTypes.Name(t)} needs {DTypes.BlockBytes(t)}");
    }

    // 32-block nibbles: byte j = element j (low) | element j + 16 (high)
    private static void Nibbles32(byte* qs, ReadOnlySpan<int> q)
    {
        for (int j = 0; j < 16; j++) qs[j] = (byte)(q[j] | (q[j + 16] << 4));
    }

    // 32-block 5-bit codes: nibbles as Nibbles32, fifth bit j of the little-endian u32 qh = element j
    private static void Fives32(byte* qs, byte* qhBytes, ReadOnlySpan<int> q)
    {
        uint qh = 0;
        for (int j = 0; j < 16; j++)
        {
            qs[j] = (byte)((q[j] & 0xF) | ((q[j + 16] & 0xF) << 4));
            qh |= (uint)(q[j] >> 4) << j;
            qh |= (uint)(q[j + 16] >> 4) << (j + 16);
        }
        *(uint*)qhBytes = qh;
    }

    // Q2_K/Q3_K 2-bit codes (256,): per half of 128, byte l holds elements l, l+32, l+64, l+96 at shifts 0, 2, 4, 6
    private static void Twos256(byte* qs, ReadOnlySpan<int> q)
    {
        for (int h = 0; h < 256; h += 128)
            for (int l = 0; l < 32; l++)
                qs[h / 4 + l] = (byte)(q[h + l] | (q[h + l + 32] << 2) | (q[h + l + 64] << 4) | (q[h + l + 96] << 6));
    }
}
