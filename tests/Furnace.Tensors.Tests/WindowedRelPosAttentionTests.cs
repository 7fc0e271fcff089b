// Attention.WindowedRelPos against a naive double-precision twin written the way sam.py does it: pad the token map
// with the pad row, cut it into windows, per window and head score = scale·q·k + q·Rh[qy][ky] + q·Rw[qx][kx],
// softmax, weighted V, then crop the padding. Global attention (window 0), exact windows and padded windows, on both
// the blocked path (head dim a multiple of 16) and the per-query one.
// Tolerance 1e-5 absolute on outputs of magnitude ~1.
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class WindowedRelPosAttentionTests
{
    [Theory]
    [InlineData(6, 6, 0, 2, 16, 2)]  // global, head dim on the SIMD width
    [InlineData(8, 8, 4, 2, 8, 1)]   // exact 4x4 windows
    [InlineData(6, 7, 4, 3, 5, 3)]   // padded windows (6x7 -> 8x8), odd head dim, 3 threads
    [InlineData(5, 3, 0, 1, 4, 2)]   // global on a non-square map (Rh 5x5, Rw 3x3)
    [InlineData(6, 7, 4, 2, 16, 2)]  // blocked path (head dim 16): padded windows, padded queries inside query blocks
    [InlineData(9, 9, 0, 1, 32, 3)]  // blocked path, global over 81 keys (not a multiple of 4 or 16)
    [InlineData(10, 10, 3, 3, 16, 2)] // blocked path, 3x3 windows (9 keys) padded to 12x12
    public void WindowedRelPos_RandomQkv_MatchesNaiveReference(int h, int w, int window, int heads, int hd, int threads)
    {
        int dim = heads * hd, wh = window > 0 ? window : h, ww = window > 0 ? window : w;
        float[] qkv = Reference.Random(h * w * 3 * dim, 1 + h * w, 1.5f);
        float[] pad = Reference.Random(3 * dim, 2, 0.5f);
        float[] relH = Reference.Random(wh * wh * hd, 3, 0.5f), relW = Reference.Random(ww * ww * hd, 4, 0.5f);
        var o = new float[h * w * dim];
        using var ctx = new KernelContext(threads);
        Attention.WindowedRelPos(o, qkv, pad, h, w, window, heads, hd, relH, relW, ctx);
        double[] expect = Naive(qkv, pad, h, w, window, heads, hd, relH, relW);
        for (int i = 0; i < o.Length; i++) Assert.True(Math.Abs(o[i] - expect[i]) <= 1e-5, $"o[{i}] = {o[i]}, expected {expect[i]}");
    }

    [Fact]
    public void WindowedRelPos_ShortTables_Throws()
    {
        using var ctx = new KernelContext(1);
        Assert.Throws<ArgumentException>(() => Attention.WindowedRelPos(new float[16 * 4], new float[16 * 12], new float[12], 4, 4, 2, 1, 4,
            new float[2 * 2 * 4 - 1], new float[2 * 2 * 4], ctx));
    }

    private static double[] Naive(float[] qkv, float[] pad, int h, int w, int window, int heads, int hd, float[] relH, float[] relW)
    {
        int dim = heads * hd, wh = window > 0 ? window : h, ww = window > 0 ? window : w;
        int hp = (h + wh - 1) / wh * wh, wp = (w + ww - 1) / ww * ww;
        // padded map (hp, wp, 3·dim)
        var map = new float[hp * wp * 3 * dim];
        for (int y = 0; y < hp; y++)
        for (int x = 0; x < wp; x++)
        {
            var src = y < h && x < w ? qkv.AsSpan((y * w + x) * 3 * dim, 3 * dim) : pad.AsSpan();
            src.CopyTo(map.AsSpan((y * wp + x) * 3 * dim, 3 * dim));
        }
        var outp = new double[hp * wp * dim];
        double scale = 1 / Math.Sqrt(hd);
        for (int wy = 0; wy < hp / wh; wy++)
        for (int wx = 0; wx < wp / ww; wx++)
        for (int head = 0; head < heads; head++)
        for (int qy = 0; qy < wh; qy++)
        for (int qx = 0; qx < ww; qx++)
        {
            int qi = ((wy * wh + qy) * wp + wx * ww + qx) * 3 * dim + head * hd;
            var s = new double[wh * ww];
            for (int ky = 0; ky < wh; ky++)
            for (int kx = 0; kx < ww; kx++)
            {
                int ki = ((wy * wh + ky) * wp + wx * ww + kx) * 3 * dim + dim + head * hd;
                double dot = 0, rh = 0, rw = 0;
                for (int c = 0; c < hd; c++)
                {
                    dot += (double)map[qi + c] * map[ki + c];
                    rh += (double)map[qi + c] * relH[(qy * wh + ky) * hd + c];
                    rw += (double)map[qi + c] * relW[(qx * ww + kx) * hd + c];
                }
                s[ky * ww + kx] = dot * scale + rh + rw;
            }
            double max = s.Max(), sum = 0;
            for (int j = 0; j < s.Length; j++) { s[j] = Math.Exp(s[j] - max); sum += s[j]; }
            int oi = ((wy * wh + qy) * wp + wx * ww + qx) * dim + head * hd;
            for (int j = 0; j < s.Length; j++)
            {
                int ky = j / ww, kx = j % ww;
                int vi = ((wy * wh + ky) * wp + wx * ww + kx) * 3 * dim + 2 * dim + head * hd;
                for (int c = 0; c < hd; c++) outp[oi + c] += s[j] / sum * map[vi + c];
            }
        }
        var cropped = new double[h * w * dim];
        for (int y = 0; y < h; y++)
            Array.Copy(outp, y * wp * dim, cropped, y * w * dim, w * dim);
        return cropped;
    }
}
