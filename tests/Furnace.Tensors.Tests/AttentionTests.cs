// Attention.Causal against the double-precision llama2.c-style twin (Reference.Attention): GQA, startPos > 0,
// head sizes off the SIMD width, several thread counts. Tolerance 1e-5 absolute on outputs of magnitude ~1.
using Furnace.Tensors;

namespace Furnace.Tensors.Tests;

public sealed class AttentionTests
{
    [Theory]
    [InlineData(0, 1, 4, 4, 16, 1)]   // decode, first position, MHA
    [InlineData(5, 1, 6, 2, 20, 2)]   // decode after a prefix, GQA 3:1, head dim not a multiple of 16
    [InlineData(0, 7, 8, 2, 64, 2)]   // prefill from scratch
    [InlineData(9, 4, 6, 3, 13, 3)]   // prefill continuing a cache, 3 threads
    public void Causal_RandomQkv_MatchesNaiveReference(int startPos, int t, int nHead, int nKv, int hd, int threads)
    {
        int positions = startPos + t;
        float[] q = Reference.Random(t * nHead * hd, 1 + t, 2f);
        float[] k = Reference.Random(positions * nKv * hd, 2 + t, 2f);
        float[] v = Reference.Random(positions * nKv * hd, 3 + t);
        var o = new float[t * nHead * hd];
        using var ctx = new KernelContext(threads);
        Attention.Causal(o, q, k, v, startPos, t, nHead, nKv, hd, ctx);
        double[] expect = Reference.Attention(q, k, v, startPos, t, nHead, nKv, hd);
        for (int i = 0; i < o.Length; i++) Assert.True(Math.Abs(o[i] - expect[i]) <= 1e-5, $"o[{i}] = {o[i]}, expected {expect[i]}");
    }

    [Fact]
    public void Causal_LaterTokens_DoNotSeeFuturePositions()
    {
        // Changing the cache at positions after a query must not change that query's output.
        const int t = 3, nHead = 2, hd = 8;
        float[] q = Reference.Random(t * nHead * hd, 4);
        float[] k = Reference.Random(t * nHead * hd, 5);
        float[] v = Reference.Random(t * nHead * hd, 6);
        using var ctx = new KernelContext(2);
        var a = new float[t * nHead * hd];
        Attention.Causal(a, q, k, v, 0, t, nHead, nHead, hd, ctx);
        for (int j = 2 * nHead * hd; j < k.Length; j++) { k[j] += 10; v[j] -= 10; }
        var b = new float[t * nHead * hd];
        Attention.Causal(b, q, k, v, 0, t, nHead, nHead, hd, ctx);
        Assert.Equal(a.AsSpan(0, 2 * nHead * hd).ToArray(), b.AsSpan(0, 2 * nHead * hd).ToArray());
    }

    [Theory]
    [InlineData(1, 1, 1, 8, 1)]     // a single token sees only itself
    [InlineData(1, 5, 4, 16, 2)]    // ViT-like: CLS + 4 patches
    [InlineData(3, 17, 4, 13, 2)]   // batch of 3 images, head dim off the SIMD width
    [InlineData(2, 50, 12, 64, 3)]  // ViT-B/32 shape, 3 threads
    [InlineData(2, 37, 3, 32, 2)]   // blocked path: keys off the 16-wide tile, queries off the block of 8
    [InlineData(1, 2, 2, 16, 1)]    // blocked path: a partial query block only
    [InlineData(1, 77, 2, 48, 2)]   // blocked path: a 32-column tile plus a 16-column tail, keys off the 32-key tile
    public void Bidirectional_RandomQkv_MatchesNaiveReference(int batch, int seqLen, int nHead, int hd, int threads)
    {
        int n = batch * seqLen * nHead * hd;
        float[] q = Reference.Random(n, 11 + seqLen, 2f);
        float[] k = Reference.Random(n, 12 + seqLen, 2f);
        float[] v = Reference.Random(n, 13 + seqLen);
        var o = new float[n];
        using var ctx = new KernelContext(threads);
        Attention.Bidirectional(o, q, k, v, batch, seqLen, nHead, hd, ctx);
        double[] expect = Reference.BidirectionalAttention(q, k, v, batch, seqLen, nHead, hd);
        for (int i = 0; i < o.Length; i++) Assert.True(Math.Abs(o[i] - expect[i]) <= 1e-5, $"o[{i}] = {o[i]}, expected {expect[i]}");
    }

    [Fact]
    public void Bidirectional_SequencesOfABatch_DoNotSeeEachOther()
    {
        const int seqLen = 4, nHead = 2, hd = 8, n = 2 * seqLen * nHead * hd;
        float[] q = Reference.Random(n, 21), k = Reference.Random(n, 22), v = Reference.Random(n, 23);
        using var ctx = new KernelContext(2);
        var a = new float[n];
        Attention.Bidirectional(a, q, k, v, 2, seqLen, nHead, hd, ctx);
        for (int j = n / 2; j < n; j++) { k[j] += 10; v[j] -= 10; }
        var b = new float[n];
        Attention.Bidirectional(b, q, k, v, 2, seqLen, nHead, hd, ctx);
        Assert.Equal(a.AsSpan(0, n / 2).ToArray(), b.AsSpan(0, n / 2).ToArray());
        // and the first token of a sequence does see the last one (no causal mask)
        Array.Copy(a, b, n);
        k[seqLen * nHead * hd - 1] += 5;
        Attention.Bidirectional(b, q, k, v, 2, seqLen, nHead, hd, ctx);
        Assert.NotEqual(a[0..(nHead * hd)], b[0..(nHead * hd)]);
    }
}
