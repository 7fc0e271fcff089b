using Furnace.Formats.Gguf;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Formats;

public sealed class GgufTests
{
    [Fact]
    public void Open_LlamaCppVocabFile_ReadsTokenizerMetadata()
    {
        using var f = GgufFile.Open(SharedPaths.Fixtures("tokenizers", "ggml-vocab-llama-spm.gguf"));
        Assert.Equal(3u, f.Version);
        Assert.Equal("llama", f.GetString("tokenizer.ggml.model"));
        var tokens = f.GetArray<string>("tokenizer.ggml.tokens");
        Assert.NotNull(tokens);
        Assert.Equal(32000, tokens!.Length);
        Assert.Equal("<s>", tokens[1]);
    }

    [Fact]
    public void Write_ThenOpen_RoundTripsMetadataAndTensors()
    {
        using var dir = new TempDir();
        var rng = new Random(1);
        float[] w = Enumerable.Range(0, 64 * 3).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        new GgufWriter()
            .Add("general.architecture", "llama")
            .Add("llama.block_count", 2u)
            .Add("x.floats", GgufValue.Of(new[] { 1.5f, -2f }))
            .Add("x.strings", GgufValue.Of(new[] { "a", "βγ" }))
            .Add("x.bool", GgufValue.Of(true))
            .AddTensor("a.weight", DType.F32, [64, 3], w)
            .AddTensor("b.weight", DType.Q8_0, [64, 3], w)
            .AddTensor("c.weight", DType.Q4_0, [64, 3], w)
            .Write(dir.File("m.gguf"));

        using var f = GgufFile.Open(dir.File("m.gguf"));
        Assert.Equal("llama", f.Architecture);
        Assert.Equal(2, f.GetInt("llama.block_count"));
        Assert.Equal(new[] { 1.5f, -2f }, f.GetArray<float>("x.floats"));
        Assert.Equal(new[] { "a", "βγ" }, f.GetArray<string>("x.strings"));
        Assert.Equal(true, f.Metadata["x.bool"].Value);
        Assert.Equal(3, f.Tensors.Count);
        var a = f.FindTensor("a.weight")!;
        Assert.Equal(new long[] { 64, 3 }, a.Shape);
        Assert.Equal(0, a.Offset % 32);
        Assert.Equal(w, f.Map.ReadFloats(a.Offset, w.Length, DType.F32));
        var b = f.FindTensor("b.weight")!;
        Assert.Equal(3 * 2 * BlockQ8_0.Size, b.ByteLength);
        float[] back = f.Map.ReadFloats(b.Offset, w.Length, DType.Q8_0);
        for (int i = 0; i < w.Length; i++) Assert.InRange(back[i] - w[i], -0.5f / 127 * 1.01f, 0.5f / 127 * 1.01f);
        Assert.Equal(3 * 2 * BlockQ4_0.Size, f.FindTensor("c.weight")!.ByteLength);
    }

    [Fact]
    public void Open_TruncatedFile_ThrowsFormatErrorNamingTheFile()
    {
        using var dir = new TempDir();
        new GgufWriter().Add("general.architecture", "llama").AddTensor("t", DType.F32, [32], new float[32]).Write(dir.File("m.gguf"));
        byte[] bytes = File.ReadAllBytes(dir.File("m.gguf"));
        File.WriteAllBytes(dir.File("t.gguf"), bytes[..^20]);
        var ex = Assert.Throws<FurnaceFormatException>(() => GgufFile.Open(dir.File("t.gguf")));
        Assert.Contains("t.gguf", ex.Message);
        Assert.Contains("'t'", ex.Message);
    }

    [Theory]
    [InlineData(DType.Q4_K)]
    [InlineData(DType.Q6_K)]
    [InlineData(DType.IQ4_XS)]
    [InlineData(DType.Q5_1)]
    public void Write_ThenOpen_LlamaCppQuantTypesRoundTrip(DType type)
    {
        using var dir = new TempDir();
        var rng = new Random(2);
        float[] w = Enumerable.Range(0, 256 * 3).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        new GgufWriter().Add("general.architecture", "llama").AddTensor("t.weight", type, [256, 3], w).Write(dir.File("m.gguf"));
        using var f = GgufFile.Open(dir.File("m.gguf"));
        var t = f.FindTensor("t.weight")!;
        Assert.Equal(type, t.Type);
        Assert.Equal(3 * DTypes.RowBytes(type, 256), t.ByteLength);
        float[] back = f.Map.ReadFloats(t.Offset, w.Length, type);
        for (int i = 0; i < w.Length; i++) Assert.InRange(back[i] - w[i], -0.1f, 0.1f);
    }

    [Fact]
    public void Open_KQuantRowNotMultipleOf256_ThrowsNamingTheTensor()
    {
        using var dir = new TempDir();
        new GgufWriter().Add("general.architecture", "llama").AddTensor("blk.0.ffn_down.weight", DType.Q4_K, [256, 2], new float[512]).Write(dir.File("m.gguf"));
        byte[] bytes = File.ReadAllBytes(dir.File("m.gguf"));
        int at = bytes.AsSpan().IndexOf("blk.0.ffn_down.weight"u8) + "blk.0.ffn_down.weight".Length;
        BitConverter.TryWriteBytes(bytes.AsSpan(at + 4), 128UL); // dims [256, 2] -> [128, 4]: same bytes, rows of 128
        BitConverter.TryWriteBytes(bytes.AsSpan(at + 12), 4UL);
        File.WriteAllBytes(dir.File("bad.gguf"), bytes);
        var ex = Assert.Throws<FurnaceFormatException>(() => GgufFile.Open(dir.File("bad.gguf")));
        Assert.Contains("bad.gguf", ex.Message);
        Assert.Contains("'blk.0.ffn_down.weight' row length 128", ex.Message);
    }

    [Fact]
    public void Open_NotGguf_ThrowsBadMagic()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.File("x.gguf"), "hello world, not a model");
        var ex = Assert.Throws<FurnaceFormatException>(() => GgufFile.Open(dir.File("x.gguf")));
        Assert.Contains("bad magic", ex.Message);
    }

    [Fact]
    public void Open_HugeStringLength_ThrowsInsteadOfAllocating()
    {
        using var dir = new TempDir();
        var ms = new MemoryStream();
        var w = new BinaryWriter(ms);
        w.Write(GgufFile.Magic); w.Write(3u); w.Write(0UL); w.Write(1UL);
        w.Write(ulong.MaxValue - 3); // key length
        File.WriteAllBytes(dir.File("h.gguf"), ms.ToArray());
        var ex = Assert.Throws<FurnaceFormatException>(() => GgufFile.Open(dir.File("h.gguf")));
        Assert.Contains("string length", ex.Message);
    }
}
