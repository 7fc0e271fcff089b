// ImportanceMatrix: the legacy .dat layout (values / ncall, trailer with the dataset), the GGUF layout (in_sum2 / counts,
// 1 where a matrix saw no input) and ImatrixCollector's statistics on a tiny random model, checked against the layer-0
// attention input recomputed from the embedding and attn_norm.
using Furnace.Formats.Gguf;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Quantization;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Quantization;

public sealed class ImportanceMatrixTests
{
    [Fact]
    public void Load_LegacyDat_ValuesDividedByNcallAndDatasetRead()
    {
        using var dir = new TempDir();
        string path = dir.File("old.dat");
        using (var w = new BinaryWriter(File.Create(path)))
        {
            w.Write(2);
            foreach (var (name, vals) in new[] { ("blk.0.attn_q.weight", new[] { 4f, 8f }), ("blk.0.ffn_down.weight", new[] { 2f, 6f, 10f }) })
            {
                w.Write(name.Length);
                w.Write(System.Text.Encoding.UTF8.GetBytes(name));
                w.Write(2); // ncall
                w.Write(vals.Length);
                foreach (float v in vals) w.Write(v);
            }
            w.Write(7); // last_call
            w.Write(4);
            w.Write("wiki"u8.ToArray());
        }
        var im = ImportanceMatrix.Load(path);
        Assert.Equal([2f, 4f], im.Values["blk.0.attn_q.weight"]);
        Assert.Equal([1f, 3f, 5f], im.Values["blk.0.ffn_down.weight"]);
        Assert.Equal(7, im.ChunkCount);
        Assert.Equal(["wiki"], im.Datasets);
    }

    [Fact]
    public void Load_Gguf_SumsOverCountsPerExpertOneWhereNoInput()
    {
        using var dir = new TempDir();
        string path = dir.File("im.gguf");
        ImportanceMatrix.WriteGguf(path, new Dictionary<string, (float[], float[])>
        {
            ["blk.0.ffn_up_exps.weight"] = ([2f, 4f, 6f, 8f, 5f, 5f], [2f, 4f, 0f]),
        }, ["calib.txt"], chunkCount: 3, chunkSize: 64);
        using (var f = GgufFile.Open(path))
        {
            Assert.Equal("imatrix", f.GetString("general.type"));
            Assert.Equal(new long[] { 2, 3 }, f.FindTensor("blk.0.ffn_up_exps.weight.in_sum2")!.Shape);
            Assert.Equal(new long[] { 1, 3 }, f.FindTensor("blk.0.ffn_up_exps.weight.counts")!.Shape);
        }
        var im = ImportanceMatrix.Load(path);
        Assert.Equal([1f, 2f, 1.5f, 2f, 1f, 1f], im.Values["blk.0.ffn_up_exps.weight"]);
        Assert.Equal(3, im.ChunkCount);
        Assert.Equal(["calib.txt"], im.Datasets);
    }

    [Fact]
    public void Load_NotAnImatrix_FormatError()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("x.dat"), [1, 2, 3]);
        var ex = Assert.Throws<FurnaceFormatException>(() => ImportanceMatrix.Load(dir.File("x.dat")));
        Assert.DoesNotContain('\n', ex.Message);
    }

    [Fact]
    public void Collector_TinyModel_Layer0SumsAreSquaredNormedEmbeddings()
    {
        using var dir = new TempDir();
        var c = new LlamaConfig
        {
            Architecture = "llama", Dim = 64, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 16, FfnDim = 96,
            VocabSize = 320, MaxPositions = 64, RmsEps = 1e-5f, RopeTheta = 10000f,
        }.Validated("test");
        string path = dir.File("m.gguf");
        RandomLlama.WriteGguf(path, c, DType.F32, seed: 8);
        var rng = new Random(1);
        int[] tokens = Enumerable.Range(0, 70).Select(_ => rng.Next(3, 320)).ToArray();

        var collector = new ImatrixCollector();
        using var model = ModelLoader.OpenLlama(path);
        using var ctx = new KernelContext(1);
        Assert.Equal(2, collector.Run(model, tokens, bos: 1, nCtx: 32, maxChunks: null, ctx));
        var stats = collector.Stats();
        Assert.Equal(14, stats.Count); // 7 matrices × 2 layers; no output.weight
        Assert.All(stats.Values, s => Assert.Equal([64f], s.Counts));
        Assert.Equal(96, stats["blk.1.ffn_down.weight"].Sums.Length);
        Assert.Equal(stats["blk.0.attn_q.weight"].Sums, stats["blk.0.attn_v.weight"].Sums);

        // attn_q's input in layer 0: RMSNorm(embedding) * attn_norm of each chunk's tokens, the first replaced by BOS
        using var f = GgufFile.Open(path);
        float[] emb = f.Map.ReadFloats(f.FindTensor("token_embd.weight")!.Offset, 320 * 64, DType.F32);
        float[] norm = f.Map.ReadFloats(f.FindTensor("blk.0.attn_norm.weight")!.Offset, 64, DType.F32);
        var expected = new double[64];
        var xn = new float[64];
        for (int ch = 0; ch < 2; ch++)
        {
            for (int i = 0; i < 32; i++)
            {
                int tok = i == 0 ? 1 : tokens[ch * 32 + i];
                Ops.RmsNorm(xn, emb.AsSpan(tok * 64, 64), norm, c.RmsEps);
                for (int j = 0; j < 64; j++) expected[j] += (double)xn[j] * xn[j];
            }
        }
        float[] got = stats["blk.0.attn_q.weight"].Sums;
        for (int j = 0; j < 64; j++) Assert.True(Math.Abs(got[j] - expected[j]) <= 1e-5 * expected[j], $"column {j}: {got[j]} vs {expected[j]}");
    }
}
