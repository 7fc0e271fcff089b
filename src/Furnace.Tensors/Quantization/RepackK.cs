// Load-time repacking of Q4_K / Q5_K / Q6_K weights into 16-row interleaved super-blocks (WeightLayout.Interleaved16), the
// idea of llama.cpp's CPU "repack" for K-quants (ggml-cpu/repack.cpp block_q4_Kx8 with its gemv/gemm): one 512-bit
// register holds 4 bytes of each of 16 rows, so one broadcast 4-byte activation chunk and one vpmaddubsw update 16
// row dot products at once, and the 6-bit scales and mins are decoded to bytes once at load instead of per use. The
// byte arrangement below is our own (16 rows, not llama.cpp's 8, to fill 16 int32 lanes).
//
// Rows are grouped by 16 (group g = rows 16g..16g+15; the last group is padded with zero rows, d = 0). A group holds
// its nb = cols/256 super-blocks one after another, each GroupBlockBytes long, in the order the GEMV reads them (one
// forward stream per group: the prefetchers keep up where out-of-order reads in a block fell to a third of the
// bandwidth):
//
//   Q4_K (16 x 148 bytes):  sc: 8 x 16 bytes            sc[16j + r] = 6-bit scale j of row r
//                           mn: 4 x 32 bytes            mn[32p + 2r + i] = 6-bit min 2p+i of row r
//                           d: 16 f16, dmin: 16 f16
//                           qs: 32 vectors x 64 bytes   vector v, lane r (bytes 4r..4r+3) = qs bytes 4v..4v+3 of row r
//                                                       (low nibbles: sub-block 2(v/8), high nibbles: 2(v/8)+1)
//   Q5_K (16 x 180 bytes):  sc, mn, d, dmin as Q4_K
//                           8 steps k of 5 vectors x 64 bytes, lane r of row r: qh bytes 4k..4k+3 (bits 2c, 2c+1:
//                           the fifth bits of chunk c), then Q4_K's qs vectors 8c + k for c = 0..3
//   Q6_K (16 x 212 bytes):  sc: 8 x 32 bytes            sc[32p + 2r + i] = int8 scale 2p+i of row r
//                           d: 16 f16, then 32 bytes of padding (the codes start 64-byte aligned)
//                           16 steps u = 8h + k (h: half, k < 8) of 3 vectors x 64 bytes, lane r of row r:
//                             ql bytes 64h + 4k..+3 | ql bytes 64h + 32 + 4k..+3 | qh bytes 32h + 4k..+3
//
// Q4_K grows from 144 to 148 bytes per row and super-block (the pre-decoded scales and mins), Q5_K from 176 to 180,
// Q6_K from 210 to 212.
// The kernels are MatMulKPacked; RowBlock rebuilds a row's original ggml block, so Dequantize.Row is unchanged.
using System.Runtime.CompilerServices;

namespace Furnace.Tensors;

public static unsafe class RepackK
{
    public const int Rows = 16;

    /// <summary>Whether t has the Interleaved16 layout (Q4_K, Q5_K, Q6_K).</summary>
    public static bool Supports(DType t) => t is DType.Q4_K or DType.Q5_K or DType.Q6_K;

    /// <summary>
    /// Whether PackedWeights repacks t at load: only where the AVX-512 kernels run (elsewhere the row-major AVX2
    /// kernels are faster than the packed layout's scalar twin).
    /// </summary>
    public static bool Applies(DType t) => Supports(t) && MatMulKPacked.Accelerated;

    // bytes of one super-block of one 16-row group
    internal static int GroupBlockBytes(DType t) => t switch
    {
        DType.Q4_K => Rows * 148,
        DType.Q5_K => Rows * 180,
        _ => Rows * 212,
    };

    // offsets inside one group super-block
    internal const int K4Scales = 0, K4Mins = 128, K4D = 256, K4Dmin = 288, K4Qs = 320, K5Steps = 320;
    internal const int K6Scales = 0, K6D = 256, K6Codes = 320;

    internal static long GroupBytes(in WeightMatrix w) => (long)(w.Cols / DTypes.SuperBlock) * GroupBlockBytes(w.Type);

    public static long Interleaved16Bytes(int rows, int cols, DType t) => (long)(rows + Rows - 1) / Rows * (cols / DTypes.SuperBlock) * GroupBlockBytes(t);

    /// <summary>A 64-byte aligned buffer holding w (RowMajor Q4_K/Q5_K/Q6_K) in the Interleaved16 layout, and the view over it.</summary>
    public static NativeBuffer Interleave16(WeightMatrix w, out WeightMatrix packed)
    {
        if (!Supports(w.Type)) throw new NotSupportedException($"{DTypes.Name(w.Type)} weights have no 16-row interleaved layout");
        if (w.Layout != WeightLayout.RowMajor) throw new ArgumentException("matrix is already repacked");
        var buf = NativeBuffer.ForOverwrite(Interleaved16Bytes(w.Rows, w.Cols, w.Type));
        try
        {
            int groups = (w.Rows + Rows - 1) / Rows;
            long groupBytes = GroupBytes(w);
            byte* data = buf.Data;
            if (groups >= 32 && Environment.ProcessorCount > 1)
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
            packed = new WeightMatrix(buf.Data, w.Rows, w.Cols, w.Type, WeightLayout.Interleaved16);
            return buf;
        }
        catch
        {
            buf.Dispose();
            throw;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PackGroup(byte* dst, in WeightMatrix w, int g)
    {
        int nb = w.Cols / DTypes.SuperBlock, gbb = GroupBlockBytes(w.Type), bb = DTypes.BlockBytes(w.Type);
        int full = Math.Min(Rows, w.Rows - g * Rows);
        new Span<byte>(dst, nb * gbb).Clear(); // padding rows: zero codes, scales and d
        for (int r = 0; r < full; r++)
        {
            byte* src = w.Row(g * Rows + r);
            for (int b = 0; b < nb; b++)
            {
                byte* x = src + b * bb, o = dst + b * gbb;
                if (w.Type is DType.Q4_K or DType.Q5_K)
                {
                    if (w.Type == DType.Q4_K)
                    {
                        for (int v = 0; v < 32; v++) *(uint*)(o + K4Qs + 64 * v + 4 * r) = *(uint*)(x + 16 + 4 * v);
                    }
                    else
                    {
                        for (int k = 0; k < 8; k++)
                        {
                            byte* step = o + K5Steps + 320 * k + 4 * r;
                            *(uint*)step = *(uint*)(x + 16 + 4 * k);
                            for (int c = 0; c < 4; c++) *(uint*)(step + 64 * (1 + c)) = *(uint*)(x + 48 + 4 * (8 * c + k));
                        }
                    }
                    for (int j = 0; j < 8; j++)
                    {
                        KQuant.ScaleMinK4(j, x + 4, out int sc, out int m);
                        o[K4Scales + 16 * j + r] = (byte)sc;
                        o[K4Mins + 32 * (j / 2) + 2 * r + (j & 1)] = (byte)m;
                    }
                    ((ushort*)(o + K4D))[r] = *(ushort*)x;
                    ((ushort*)(o + K4Dmin))[r] = *(ushort*)(x + 2);
                }
                else
                {
                    for (int u = 0; u < 16; u++)
                    {
                        int h = u / 8, k = u % 8;
                        byte* step = o + K6Codes + 192 * u + 4 * r;
                        *(uint*)step = *(uint*)(x + 64 * h + 4 * k);
                        *(uint*)(step + 64) = *(uint*)(x + 64 * h + 32 + 4 * k);
                        *(uint*)(step + 128) = *(uint*)(x + 128 + 32 * h + 4 * k);
                    }
                    for (int s = 0; s < 16; s++) o[K6Scales + 32 * (s / 2) + 2 * r + (s & 1)] = x[192 + s];
                    ((ushort*)(o + K6D))[r] = *(ushort*)(x + 208);
                }
            }
        }
    }

    /// <summary>Row r's super-block b of an Interleaved16 matrix as its original ggml block bytes (for tests).</summary>
    internal static byte[] RowBlock(in WeightMatrix w, int r, int b)
    {
        var blk = new byte[DTypes.BlockBytes(w.Type)];
        fixed (byte* p = blk) RowBlock(w, r, b, p);
        return blk;
    }

    // writes row r's super-block b of an Interleaved16 matrix back as its original ggml block bytes at x
    internal static void RowBlock(in WeightMatrix w, int r, int b, byte* x)
    {
        int gbb = GroupBlockBytes(w.Type), lane = r % Rows;
        byte* o = w.Data + (r / Rows) * GroupBytes(w) + (long)b * gbb;
        if (w.Type is DType.Q4_K or DType.Q5_K)
        {
            *(ushort*)x = ((ushort*)(o + K4D))[lane];
            *(ushort*)(x + 2) = ((ushort*)(o + K4Dmin))[lane];
            byte* q = x + 4;
            new Span<byte>(q, 12).Clear();
            for (int j = 0; j < 8; j++)
            {
                int sc = o[K4Scales + 16 * j + lane], m = o[K4Mins + 32 * (j / 2) + 2 * lane + (j & 1)];
                // the inverse of get_scale_min_k4
                if (j < 4)
                {
                    q[j] |= (byte)sc;
                    q[j + 4] |= (byte)m;
                }
                else
                {
                    q[j + 4] = (byte)((sc & 0xF) | ((m & 0xF) << 4));
                    q[j - 4] |= (byte)((sc >> 4) << 6);
                    q[j] |= (byte)((m >> 4) << 6);
                }
            }
            if (w.Type == DType.Q4_K)
            {
                for (int v = 0; v < 32; v++) *(uint*)(x + 16 + 4 * v) = *(uint*)(o + K4Qs + 64 * v + 4 * lane);
            }
            else
            {
                for (int k = 0; k < 8; k++)
                {
                    byte* step = o + K5Steps + 320 * k + 4 * lane;
                    *(uint*)(x + 16 + 4 * k) = *(uint*)step;
                    for (int c = 0; c < 4; c++) *(uint*)(x + 48 + 4 * (8 * c + k)) = *(uint*)(step + 64 * (1 + c));
                }
            }
        }
        else
        {
            for (int u = 0; u < 16; u++)
            {
                int h = u / 8, k = u % 8;
                byte* step = o + K6Codes + 192 * u + 4 * lane;
                *(uint*)(x + 64 * h + 4 * k) = *(uint*)step;
                *(uint*)(x + 64 * h + 32 + 4 * k) = *(uint*)(step + 64);
                *(uint*)(x + 128 + 32 * h + 4 * k) = *(uint*)(step + 128);
            }
            for (int s = 0; s < 16; s++) x[192 + s] = o[K6Scales + 32 * (s / 2) + 2 * lane + (s & 1)];
            *(ushort*)(x + 208) = ((ushort*)(o + K6D))[lane];
        }
    }

    // dst (cols,) = row r of an Interleaved16 matrix as float (its blocks rebuilt, then ggml's dequantization)
    internal static void DequantizeRow(Span<float> dst, in WeightMatrix w, int r)
    {
        int nb = w.Cols / DTypes.SuperBlock, bb = DTypes.BlockBytes(w.Type);
        byte* blk = stackalloc byte[bb];
        for (int b = 0; b < nb; b++)
        {
            RowBlock(w, r, b, blk);
            Dequantize.Bytes(dst.Slice(b * DTypes.SuperBlock, DTypes.SuperBlock), blk, w.Type);
        }
    }
}
