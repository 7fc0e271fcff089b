// `furnace quantize`'s engine (GgufQuantizer + QuantRecipe) against llama.cpp's own quantizer (llama_model_quantize through
// LLamaSharp's LLamaQuantizer, raw llama_ftype ids since LLamaSharp's enum may be stale): for every supported file type, on
// a tiny random F32 llama (12 layers: use_more_bits and the loader's numeric block order show; ffn 1408 forces the K-quant
// fallbacks; n_gqa 2) and a qwen2 (n_gqa 4: the Q2_K / IQ4 attn_v rules), the per-tensor types are llama.cpp's and every
// block's bytes are identical; llama.cpp loads our file and gives the logits it gives on its own file.
// Importance matrices: llama_model_quantize_params.imatrix is a C++ std::unordered_map pointer in this llama.cpp, which
// LLamaSharp cannot pass, so with an imatrix (one ImatrixCollector computed, written and read back as GGUF) each tensor
// is compared with ggml_quantize_chunk given the same vector.
using Furnace.Formats.Gguf;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Oracle.Tests.Support;
using Furnace.Quantization;
using Furnace.Tensors;
using LLama.Native;

namespace Furnace.Oracle.Tests;

public sealed class QuantizeRecipeFixture : IDisposable
{
    public TempDir Dir { get; } = new();

    public string Llama { get; }

    public string Qwen2 { get; }

    public QuantizeRecipeFixture()
    {
        Llama = Dir.File("llama-f32.gguf");
        Qwen2 = Dir.File("qwen2-f32.gguf");
        RandomLlama.WriteGguf(Llama, QuantizeRecipeOracleTests.Config("llama"), DType.F32, seed: 21);
        RandomLlama.WriteGguf(Qwen2, QuantizeRecipeOracleTests.Config("qwen2"), DType.F32, seed: 22);
        NativeApi.llama_empty_call(); // loads the native library through LLamaSharp's resolver
    }

    public void Dispose() => Dir.Dispose();
}

public sealed class QuantizeRecipeOracleTests(QuantizeRecipeFixture fx) : IClassFixture<QuantizeRecipeFixture>
{
    internal static LlamaConfig Config(string arch) => arch == "llama"
        ? new LlamaConfig
        {
            Architecture = "llama", Dim = 256, Layers = 12, Heads = 4, KvHeads = 2, HeadDim = 64, FfnDim = 1408,
            VocabSize = 320, MaxPositions = 128, RmsEps = 1e-5f, RopeTheta = 10000f,
        }.Validated("test")
        : new LlamaConfig
        {
            Architecture = "qwen2", Dim = 256, Layers = 8, Heads = 8, KvHeads = 2, HeadDim = 32, FfnDim = 768,
            VocabSize = 320, MaxPositions = 128, RmsEps = 1e-6f, RopeTheta = 1000000f, AttentionBias = true,
        }.Validated("test");

    public static TheoryData<QuantFileType> FileTypes()
    {
        var d = new TheoryData<QuantFileType>();
        foreach (var f in QuantFileTypes.All) d.Add(f);
        return d;
    }

    private string Input(string arch) => arch == "llama" ? fx.Llama : fx.Qwen2;

    // llama_model_quantize itself (LLamaQuantizer refuses BF16 and cannot ask for --pure)
    private string LlamaCppQuantized(string arch, QuantFileType f, bool pure = false)
    {
        string dst = fx.Dir.File($"{arch}-{f}-{(pure ? "pure-" : "")}llamacpp.gguf");
        if (File.Exists(dst)) return dst;
        var p = LLamaModelQuantizeParams.Default();
        p.ftype = (LLamaFtype)(int)f;
        p.nthread = 2;
        p.quantize_output_tensor = true;
        p.pure = pure;
        Assert.True(NativeApi.llama_model_quantize(Input(arch), dst, ref p) == 0, $"llama.cpp could not quantize to {f}");
        return dst;
    }

    private string Ours(string arch, QuantFileType f, ImportanceMatrix? im = null, bool pure = false)
    {
        string dst = fx.Dir.File($"{arch}-{f}-{(pure ? "pure-" : "")}{(im == null ? "ours" : "imatrix")}.gguf");
        if (!File.Exists(dst)) GgufQuantizer.Quantize(Input(arch), dst, new QuantizeOptions(f) { Threads = 2, Imatrix = im, Pure = pure });
        return dst;
    }

    [Theory]
    [MemberData(nameof(FileTypes))]
    public void Quantize_Llama12Layers_SameTypesAndIdenticalBlocksAsLlamaCpp(QuantFileType f) => AssertSameAsLlamaCpp("llama", f);

    [Theory]
    [MemberData(nameof(FileTypes))]
    public void Quantize_Qwen2Gqa4_SameTypesAndIdenticalBlocksAsLlamaCpp(QuantFileType f) => AssertSameAsLlamaCpp("qwen2", f);

    [Theory]
    [InlineData(QuantFileType.Q4_K_M)]
    [InlineData(QuantFileType.Q3_K_S)]
    public void Quantize_Pure_SameTypesAndIdenticalBlocksAsLlamaCpp(QuantFileType f) => AssertSameAsLlamaCpp("llama", f, pure: true);

    private void AssertSameAsLlamaCpp(string arch, QuantFileType f, bool pure = false)
    {
        using var theirs = GgufFile.Open(LlamaCppQuantized(arch, f, pure));
        using var ours = GgufFile.Open(Ours(arch, f, pure: pure));
        Assert.Equal(theirs.Tensors.Select(t => t.Name), ours.Tensors.Select(t => t.Name)); // llama.cpp's order too
        var wrongTypes = theirs.Tensors.Zip(ours.Tensors).Where(p => p.First.Type != p.Second.Type)
            .Select(p => $"{p.First.Name}: {DTypes.Name(p.Second.Type)} vs llama.cpp {DTypes.Name(p.First.Type)}").ToList();
        Assert.True(wrongTypes.Count == 0, $"{f} {arch}: {string.Join("; ", wrongTypes)}");

        var blocks = new Dictionary<DType, (long Same, long All)>();
        foreach (var (t, o) in theirs.Tensors.Zip(ours.Tensors))
        {
            Assert.Equal(t.Shape, o.Shape);
            int bb = DTypes.BlockBytes(t.Type);
            var a = theirs.Map.Span(t.Offset, (int)t.ByteLength);
            var b = ours.Map.Span(o.Offset, (int)o.ByteLength);
            long same = 0, all = t.ByteLength / bb;
            for (long k = 0; k < all; k++)
                if (a.Slice((int)(k * bb), bb).SequenceEqual(b.Slice((int)(k * bb), bb))) same++;
            var (s0, a0) = blocks.GetValueOrDefault(t.Type);
            blocks[t.Type] = (s0 + same, a0 + all);
        }
        Console.WriteLine($"{f} {arch}: " + string.Join(", ", blocks.Select(kv => $"{DTypes.Name(kv.Key)} {kv.Value.Same}/{kv.Value.All}")));
        foreach (var (type, (same, all)) in blocks)
            Assert.True(same == all, $"{f} {arch}: {DTypes.Name(type)} {all - same} of {all} blocks differ from llama.cpp's");

        Assert.Equal((long)(int)f, ours.GetInt("general.file_type"));
        Assert.Equal(2L, ours.GetInt("general.quantization_version"));
    }

    [Theory]
    [InlineData(QuantFileType.Q4_K_M)]
    [InlineData(QuantFileType.Q2_K)]
    [InlineData(QuantFileType.IQ4_XS)]
    [InlineData(QuantFileType.Q5_1)]
    public void LlamaCppLogits_OurFile_EqualItsOwnQuantizedFile(QuantFileType f)
    {
        var rng = new Random(3);
        int[] tokens = Enumerable.Range(0, 24).Select(_ => rng.Next(3, 320)).ToArray();
        float[][] expected, actual;
        using (var cpp = new LlamaCpp(LlamaCppQuantized("llama", f), contextSize: 64)) expected = cpp.AllLogits(tokens);
        using (var cpp = new LlamaCpp(Ours("llama", f), contextSize: 64)) actual = cpp.AllLogits(tokens);
        for (int i = 0; i < tokens.Length; i++) Assert.Equal(expected[i], actual[i]);
    }

    [Theory]
    [InlineData(QuantFileType.Q4_K_M)]
    [InlineData(QuantFileType.Q3_K_S)]
    [InlineData(QuantFileType.IQ4_XS)]
    [InlineData(QuantFileType.Q4_0)]
    public void Quantize_WithImatrix_EveryTensorEqualsGgmlQuantizeChunkWithItsVector(QuantFileType f)
    {
        // an imatrix computed by ImatrixCollector on the model itself (2 chunks of 64 random tokens), through its GGUF file
        string imPath = fx.Dir.File($"computed-{f}.imatrix.gguf");
        var collector = new ImatrixCollector();
        var rng = new Random(9);
        int[] tokens = Enumerable.Range(0, 128).Select(_ => rng.Next(3, 320)).ToArray();
        using (var model = ModelLoader.OpenLlama(fx.Llama))
        using (var kc = new KernelContext(2))
            collector.Run(model, tokens, bos: 1, nCtx: 64, maxChunks: null, kc);
        var stats = collector.Stats();
        ImportanceMatrix.WriteGguf(imPath, stats, ["random tokens"], chunkCount: 2, chunkSize: 64);
        var im = ImportanceMatrix.Load(imPath);
        Assert.Equal(stats.Count, im.Values.Count);

        using var input = GgufFile.Open(fx.Llama);
        using var ours = GgufFile.Open(Ours("llama", f, im));
        int compared = 0;
        foreach (var o in ours.Tensors.Where(t => DTypes.IsQuantized(t.Type)))
        {
            var s = input.FindTensor(o.Name)!;
            int n = (int)s.Shape[0], rows = (int)(s.ElementCount / n);
            float[] x = input.Map.ReadFloats(s.Offset, n * rows, DType.F32);
            float[]? qw = im.Values.GetValueOrDefault(o.Name);
            byte[] expected = Ggml.QuantizeChunk(o.Type, x, rows, n, qw);
            Assert.True(expected.AsSpan().SequenceEqual(ours.Map.Span(o.Offset, (int)o.ByteLength)), $"{f}: '{o.Name}' ({DTypes.Name(o.Type)}) differs from ggml_quantize_chunk");
            if (qw != null) compared++;
        }
        Assert.True(compared >= 12 * 7, $"only {compared} tensors had importance");
        // the imatrix rules: Q4_0 with an imatrix guards the first n/8 ffn_down layers with Q4_1
        if (f == QuantFileType.Q4_0) Assert.Equal(DType.Q4_1, ours.FindTensor("blk.0.ffn_down.weight")!.Type);
    }
}
