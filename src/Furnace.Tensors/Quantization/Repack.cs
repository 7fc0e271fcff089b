// Load-time repacking of Q8_0 / Q4_0 weights into 8-row interleaved blocks, the idea of llama.cpp's CPU "repack"
// (ggml-cpu/repack.cpp block_q4_0x8 / block_q8_0x8 and their gemv/gemm): one 256-bit register holds 4 bytes of
// each of 8 rows, so one broadcast 4-byte activation chunk and one VNNI update 8 row dot products at once, and a
// block ends with one convert + one fma for 8 rows. The byte arrangement below is our own.
//
// Rows are grouped by 8 (group g = rows 8g..8g+7; the last group is padded with zero rows). A group of nb = cols/32
// blocks occupies nb * 8 * BlockBytes bytes (as much as its 8 rows did row-major):
//
//   group g:  qs: nb x V x 32 bytes             then  d: nb x 8 f16 (row r's scale of block b at d[8b + r])
//   vector (b, v), 32 bytes = 8 lanes of 4 bytes:   | row0 b0 b1 b2 b3 | row1 .. | ... | row7 .. |
//
//   Q8_0 (V = 8): lane r of vector v = bytes 4v..4v+3 of row r's block (elements 4v..4v+3), stored as q ^ 0x80
//                 = q + 128 (unsigned, ready for u8 x s8 VNNI; the 128 is removed through the activation sums).
//   Q4_0 (V = 4): lane r of vector v = bytes 4v..4v+3 of row r's block, unchanged: the low nibbles are elements
//                 4v..4v+3 (chunk v), the high nibbles elements 16+4v..16+4v+3 (chunk v+4). So v & 0x0F is chunk v
//                 and v & 0xF0 is 16 x chunk v+4, which the kernel corrects with one shift per block.
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Furnace.Tensors;

public static unsafe class Repack
{
    public static bool Supports(DType t) => t is DType.Q8_0 or DType.Q4_0;

    // vectors of 32 bytes per (group, block)
    internal static int Vectors(DType t) => t == DType.Q8_0 ? 8 : 4;

    public static long Interleaved8Bytes(int rows, int cols, DType t) => (rows + 7) / 8 * 8 * DTypes.RowBytes(t, cols);

    internal static long GroupBytes(in WeightMatrix w) => 8 * w.RowBytes;

    /// <summary>A 64-byte aligned buffer holding w (RowMajor Q8_0/Q4_0) in the Interleaved8 layout, and the view over it.</summary>
    public static NativeBuffer Interleave8(WeightMatrix w, out WeightMatrix packed)
    {
        var buf = NativeBuffer.ForOverwrite(Interleaved8Bytes(w.Rows, w.Cols, w.Type));
        try
        {
            packed = Interleave8(w, buf);
            return buf;
        }
        catch
        {
            buf.Dispose();
            throw;
        }
    }

    /// <summary>Writes w (RowMajor Q8_0/Q4_0) into dst in the Interleaved8 layout; returns the view over dst.</summary>
    public static WeightMatrix Interleave8(WeightMatrix w, NativeBuffer dst)
    {
        if (!Supports(w.Type)) throw new NotSupportedException($"{DTypes.Name(w.Type)} weights cannot be interleaved");
        if (w.IsInterleaved8) throw new ArgumentException("matrix is already interleaved");
        long need = Interleaved8Bytes(w.Rows, w.Cols, w.Type);
        if (dst.Length < need) throw new ArgumentException($"buffer holds {dst.Length} bytes, the interleaved matrix needs {need}");
        int groups = (w.Rows + 7) / 8;
        long groupBytes = GroupBytes(w);
        if (w.Rows % 8 != 0) new Span<byte>(dst.Data + (groups - 1) * groupBytes, (int)groupBytes).Clear(); // padding rows
        byte* data = dst.Data;
        if (groups >= 64 && Environment.ProcessorCount > 1)
        {
            // load time: page faults on both sides dominate, so two or more threads help
            int chunks = Math.Min(Environment.ProcessorCount, 8);
            Parallel.For(0, chunks, c =>
            {
                for (int g = c * groups / chunks; g < (c + 1) * groups / chunks; g++) PackGroup(data + g * groupBytes, w, g);
            });
        }
        else
        {
            for (int g = 0; g < groups; g++) PackGroup(data + g * groupBytes, w, g);
        }
        return new WeightMatrix(dst.Data, w.Rows, w.Cols, w.Type, WeightLayout.Interleaved8);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackGroup(byte* dst, in WeightMatrix w, int g)
    {
        int nb = w.Cols / 32, bb = (int)DTypes.RowBytes(w.Type, 32), vecs = Vectors(w.Type);
        uint flip = w.Type == DType.Q8_0 ? 0x80808080u : 0u;
        ushort* d = (ushort*)(dst + (long)nb * vecs * 32);
        int full = Math.Min(8, w.Rows - g * 8);
        for (int r = 0; r < full; r++)
        {
            byte* src = w.Row(g * 8 + r);
            for (int b = 0; b < nb; b++) d[b * 8 + r] = *(ushort*)(src + b * bb);
        }
        if (full == 8 && Avx2.IsSupported && 8 * w.RowBytes < int.MaxValue)
        {
            // one gather collects the 4 bytes at the same place of all 8 rows: exactly one output vector
            Vector256<int> rowOffsets = Vector256.Create(0, 1, 2, 3, 4, 5, 6, 7) * (int)w.RowBytes;
            Vector256<uint> vflip = Vector256.Create(flip);
            byte* src0 = w.Row(g * 8);
            for (int b = 0; b < nb; b++)
            {
                for (int v = 0; v < vecs; v++)
                {
                    Vector256<uint> q = Avx2.GatherVector256((uint*)(src0 + b * bb + 2 + 4 * v), rowOffsets, 1);
                    (q ^ vflip).Store((uint*)(dst + ((long)b * vecs + v) * 32));
                }
            }
            return;
        }
        for (int r = 0; r < full; r++) // padding rows stay zero (scale 0)
        {
            byte* src = w.Row(g * 8 + r);
            for (int b = 0; b < nb; b++)
            {
                byte* blk = src + b * bb;
                byte* q = dst + (long)b * vecs * 32 + r * 4;
                for (int v = 0; v < vecs; v++) *(uint*)(q + v * 32) = *(uint*)(blk + 2 + 4 * v) ^ flip;
            }
        }
    }

    // dst (cols,) = row r of an Interleaved8 matrix as float (the inverse of the packing, then dequantization)
    internal static void DequantizeRow(Span<float> dst, in WeightMatrix w, int r)
    {
        int nb = w.Cols / 32, vecs = Vectors(w.Type), lane = r % 8;
        byte* group = w.Data + (r / 8) * GroupBytes(w);
        Half* d = (Half*)(group + (long)nb * vecs * 32);
        for (int b = 0; b < nb; b++)
        {
            float s = (float)d[b * 8 + lane];
            byte* q = group + (long)b * vecs * 32 + lane * 4;
            for (int v = 0; v < vecs; v++)
            {
                for (int k = 0; k < 4; k++)
                {
                    byte u = q[v * 32 + k];
                    if (w.Type == DType.Q8_0)
                    {
                        dst[b * 32 + 4 * v + k] = (u - 128) * s;
                    }
                    else
                    {
                        dst[b * 32 + 4 * v + k] = ((u & 0x0F) - 8) * s;
                        dst[b * 32 + 16 + 4 * v + k] = ((u >> 4) - 8) * s;
                    }
                }
            }
        }
    }
}
