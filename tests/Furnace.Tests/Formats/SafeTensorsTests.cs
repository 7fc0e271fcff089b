using System.Buffers.Binary;
using System.Text;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Formats;

public sealed class SafeTensorsTests
{
    private static float[] Random(int n, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
    }

    private static float Stored(float x, DType t) => t switch
    {
        DType.F16 => (float)(Half)x,
        DType.BF16 => BitConverter.Int32BitsToSingle(Quantize.ToBF16(x) << 16),
        _ => x,
    };

    // 8-byte length + the given header text (unpadded) + dataBytes bytes of 0x11.
    private static string Raw(TempDir dir, string header, int dataBytes, string name = "x.safetensors")
    {
        byte[] h = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + h.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)h.Length);
        h.CopyTo(bytes, 8);
        bytes.AsSpan(8 + h.Length).Fill(0x11);
        string path = dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static FurnaceFormatException OpenFails(string path)
    {
        var ex = Assert.Throws<FurnaceFormatException>(() => SafeTensorsFile.Open(path).Dispose());
        Assert.Equal(path, ex.Path);
        Assert.StartsWith(path + ": ", ex.Message);
        return ex;
    }

    [Fact]
    public void Write_ThenOpen_RoundTripsFloatTypesMetadataAndOddShapes()
    {
        using var dir = new TempDir();
        var cases = new (string Name, long[] Shape, DType Type)[]
        {
            ("model.embed_tokens.weight", [3, 5, 7], DType.F32),
            ("a.bias", [1], DType.F16),
            ("scalar", [], DType.F32),
            ("empty", [0, 4], DType.BF16),
            ("b.weight", [5, 3], DType.BF16),
            ("c.weight", [13, 1], DType.F16),
        };
        var w = new SafeTensorsWriter().AddMetadata("format", "pt").AddMetadata("note", "βγ \"quoted\"\n");
        var values = new Dictionary<string, float[]>();
        int seed = 0;
        foreach (var (name, shape, type) in cases)
        {
            values[name] = Random((int)shape.Aggregate(1L, (a, b) => a * b), seed++);
            w.Add(name, shape, values[name], type);
        }
        w.Write(dir.File("m.safetensors"));

        using var f = SafeTensorsFile.Open(dir.File("m.safetensors"));
        Assert.Equal(0, f.HeaderLength % 8);
        Assert.Equal("pt", f.Metadata["format"]);
        Assert.Equal("βγ \"quoted\"\n", f.Metadata["note"]);
        Assert.Equal(cases.Length, f.Tensors.Count);
        Assert.Equal(cases.Length, f.Entries.Count());
        foreach (var (name, shape, type) in cases)
        {
            TensorEntry e = f.Find(name)!;
            Assert.Equal(shape, e.Shape);
            Assert.Equal(type, e.Type);
            Assert.Equal(0, (e.Offset - f.DataOffset) % DTypes.BlockBytes(type)); // sorted by alignment: every tensor is aligned
            float[] back = e.File.ReadFloats(e.Offset, (int)e.ElementCount, e.Type);
            Assert.Equal(values[name].Select(x => Stored(x, type)).ToArray(), back);
        }
        Assert.Null(f.Find("missing"));
    }

    [Fact]
    public void Write_MatchesTheReferenceLibraryBytes()
    {
        // Expected bytes from huggingface/safetensors' own serialization tests (tensor.rs test_serialization,
        // test_serialization_forced_alignement, test_empty).
        float[] data = [0, 1, 2, 3, 4, 5];
        byte[] dataBytes = data.SelectMany(BitConverter.GetBytes).ToArray();

        byte[] one = Bytes(new SafeTensorsWriter().Add("attn.0", [1, 2, 3], data));
        Assert.Equal(Expected(64, "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", dataBytes), one);

        byte[] padded = Bytes(new SafeTensorsWriter().Add("attn0", [1, 1, 2, 3], data));
        Assert.Equal(Expected(72, "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ", dataBytes), padded);

        Assert.Equal(Expected(8, "{}      ", []), Bytes(new SafeTensorsWriter()));
        Assert.Equal(Expected(40, "{\"__metadata__\":{\"framework\":\"pt\"}}     ", []), Bytes(new SafeTensorsWriter().AddMetadata("framework", "pt")));
    }

    [Fact]
    public void Write_OrdersTensorsByDTypeAlignmentThenName()
    {
        var w = new SafeTensorsWriter()
            .Add("a", [1], [1f], DType.F16)
            .Add("b", [1], [1f], DType.F32)
            .Add("c", [1], [1f], DType.BF16)
            .AddRaw("z", "I64", [1], new byte[8])
            .AddRaw("m", "U8", [3], new byte[3])
            .Add("B2", [1], [1f], DType.F32);
        string header = Encoding.UTF8.GetString(w.HeaderBytes()).TrimEnd(' ');
        string[] order = ["\"z\"", "\"B2\"", "\"b\"", "\"c\"", "\"a\"", "\"m\""];
        int[] at = order.Select(k => header.IndexOf(k + ":", StringComparison.Ordinal)).ToArray();
        Assert.All(at, i => Assert.True(i > 0));
        Assert.Equal(at.OrderBy(i => i), at);
        Assert.Contains("\"z\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}", header);
        Assert.Contains("\"m\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[20,23]}", header);
    }

    [Fact]
    public void Write_EscapesNamesAsSerdeJsonDoes()
    {
        var w = new SafeTensorsWriter().Add("q\"\\\n\u0001é/", [1], [0f]);
        string header = Encoding.UTF8.GetString(w.HeaderBytes()).TrimEnd(' ');
        Assert.StartsWith("{\"q\\\"\\\\\\n\\u0001é/\":{", header);
        using var dir = new TempDir();
        w.Write(dir.File("e.safetensors"));
        using var f = SafeTensorsFile.Open(dir.File("e.safetensors"));
        Assert.NotNull(f.Find("q\"\\\n\u0001é/"));
    }

    private static byte[] Bytes(SafeTensorsWriter w)
    {
        var ms = new MemoryStream();
        w.WriteTo(ms);
        return ms.ToArray();
    }

    private static byte[] Expected(ulong n, string header, byte[] data)
    {
        var b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, n);
        return [.. b, .. Encoding.UTF8.GetBytes(header), .. data];
    }

    [Fact]
    public void UnsupportedDType_IsListedButSkippedAndNamedWhenRequested()
    {
        using var dir = new TempDir();
        new SafeTensorsWriter()
            .AddRaw("vision_model.embeddings.position_ids", "I64", [1, 3], new byte[24])
            .Add("w", [2], [1f, 2f])
            .Write(dir.File("m.safetensors"));
        using var f = SafeTensorsFile.Open(dir.File("m.safetensors"));
        Assert.Equal(2, f.Tensors.Count);
        var ids = f.FindInfo("vision_model.embeddings.position_ids")!;
        Assert.Equal("I64", ids.DTypeName);
        Assert.Null(ids.Type);
        Assert.Equal(new long[] { 1, 3 }, ids.Shape);
        Assert.Equal(new[] { "w" }, f.Entries.Select(e => e.Name));
        var ex = Assert.Throws<FurnaceFormatException>(() => f.Find("vision_model.embeddings.position_ids"));
        Assert.Contains("'vision_model.embeddings.position_ids'", ex.Message);
        Assert.Contains("I64", ex.Message);
    }

    [Fact]
    public void Open_Truncated_NamesFileAndTensor()
    {
        using var dir = new TempDir();
        new SafeTensorsWriter().Add("a", [4], new float[4]).Add("b", [8], new float[8]).Write(dir.File("m.safetensors"));
        byte[] bytes = File.ReadAllBytes(dir.File("m.safetensors"));
        File.WriteAllBytes(dir.File("t.safetensors"), bytes[..^4]);
        var ex = OpenFails(dir.File("t.safetensors"));
        Assert.Contains("'b'", ex.Message);
        Assert.Contains("truncated", ex.Message);
    }

    [Fact]
    public void Open_ShorterThanTheLengthField_Fails()
    {
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("s.safetensors"), [1, 0, 0]);
        Assert.Contains("too short", OpenFails(dir.File("s.safetensors")).Message);
        File.WriteAllBytes(dir.File("z.safetensors"), []);
        Assert.Contains("too short", OpenFails(dir.File("z.safetensors")).Message);
    }

    [Theory]
    [InlineData(1000UL)]
    [InlineData(1UL << 63)]
    [InlineData(ulong.MaxValue)]
    public void Open_HeaderLengthBeyondFile_Fails(ulong n)
    {
        using var dir = new TempDir();
        var bytes = new byte[64];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, n);
        File.WriteAllBytes(dir.File("h.safetensors"), bytes);
        Assert.Contains($"header length {n} runs past the end", OpenFails(dir.File("h.safetensors")).Message);
    }

    [Fact]
    public void Open_HeaderLongerThanTheFormatLimit_Fails()
    {
        using var dir = new TempDir();
        string path = dir.File("big.safetensors");
        using (var fs = new FileStream(path, FileMode.CreateNew))
        {
            var len = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(len, 100_000_001);
            fs.Write(len);
            fs.SetLength(8 + 100_000_001); // sparse
        }
        Assert.Contains("exceeds the safetensors limit", OpenFails(path).Message);
    }

    [Theory]
    [InlineData("{\"a\":", "not valid JSON")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}", "not valid JSON")]
    [InlineData("[1, 2]", "not a JSON object")]
    [InlineData("{} {}", "not valid JSON")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", "'a': shape holds -1, not a non-negative integer")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", "'a': shape holds 1.5")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,4]}}", "tensor 'a' ([3] F32 = 12 bytes) has data_offsets [0, 4] spanning 4 bytes")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", "end before begin")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", "'a': data_offsets has 1 entries")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", "tensor 'a' has no data_offsets")]
    [InlineData("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'a' has no dtype")]
    [InlineData("{\"a\":{\"dtype\":\"Q4\",\"shape\":[1],\"data_offsets\":[0,4]}}", "tensor 'a' has unknown dtype 'Q4'")]
    [InlineData("{\"a\\ud800\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "has an invalid escape sequence")]
    [InlineData("{\"a\":[0,4]}", "tensor 'a': header entry is not a JSON object")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", "tensor 'a' shape [4294967296, 4294967296] overflows")]
    [InlineData("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "names 'a' twice")]
    [InlineData("{\"__metadata__\":{\"n\":1},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", "entry 'n' is not a string")]
    public void Open_BadHeader_FailsWithTheProblem(string header, string problem)
    {
        using var dir = new TempDir();
        Assert.Contains(problem, OpenFails(Raw(dir, header, 4)).Message);
    }

    [Fact]
    public void Open_InvalidUtf8Header_Fails()
    {
        using var dir = new TempDir();
        var bytes = new byte[8 + 4];
        bytes[0] = 4;
        new byte[] { (byte)'{', 0xC3, 0x28, (byte)'}' }.CopyTo(bytes, 8);
        File.WriteAllBytes(dir.File("u.safetensors"), bytes);
        Assert.Contains("not valid UTF-8", OpenFails(dir.File("u.safetensors")).Message);
    }

    [Fact]
    public void Open_OffsetsBeyondTheFile_Fail()
    {
        using var dir = new TempDir();
        string path = Raw(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 4);
        Assert.Contains("tensor 'w' data_offsets [0, 8] lie beyond the data section of 4 bytes", OpenFails(path).Message);
        path = Raw(dir, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[18446744073709551608,18446744073709551612]}}", 4, "huge.safetensors");
        Assert.Contains("'w': data_offsets value 18446744073709551608 is out of range", OpenFails(path).Message);
    }

    [Fact]
    public void Open_OverlapGapAndTrailingBytes_Fail()
    {
        using var dir = new TempDir();
        const string a = "\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}";
        string overlap = Raw(dir, "{" + a + ",\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12, "o.safetensors");
        Assert.Contains("tensor 'b' data_offsets [4, 12] overlap tensor 'a'", OpenFails(overlap).Message);
        string gap = Raw(dir, "{" + a + ",\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", 16, "g.safetensors");
        Assert.Contains("tensor 'b' data_offsets [12, 16] leave a gap after tensor 'a'", OpenFails(gap).Message);
        string trailing = Raw(dir, "{" + a + "}", 12, "t.safetensors");
        Assert.Contains("4 bytes follow the last tensor", OpenFails(trailing).Message);
    }

    [Fact]
    public void Open_HandWrittenHeaderWithoutPaddingAndInAnyKeyOrder_Works()
    {
        using var dir = new TempDir();
        string path = Raw(dir, "{\"b\":{\"data_offsets\":[4,8],\"shape\":[1],\"dtype\":\"F32\",\"extra\":[1,{\"x\":2}]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8);
        using var f = SafeTensorsFile.Open(path);
        Assert.Equal(new[] { "a", "b" }, f.Tensors.Select(t => t.Name));
        Assert.Equal(f.DataOffset + 4, f.Find("b")!.Offset);
        Assert.Empty(f.Metadata);
    }

    [Fact]
    public void Open_MissingFile_IsAFurnaceException()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<FurnaceException>(() => SafeTensorsFile.Open(dir.File("none.safetensors")));
        Assert.Contains("file not found", ex.Message);
    }

    private static void WriteSharded(TempDir dir, string index)
    {
        new SafeTensorsWriter().Add("model.embed_tokens.weight", [4, 2], Random(8, 1), DType.BF16).Add("model.norm.weight", [2], [1f, 2f])
            .Write(dir.File("model-00001-of-00002.safetensors"));
        new SafeTensorsWriter().Add("lm_head.weight", [4, 2], Random(8, 2), DType.F16).AddRaw("extra.ids", "I64", [2], new byte[16])
            .Write(dir.File("model-00002-of-00002.safetensors"));
        File.WriteAllText(dir.File(ShardedSafeTensors.IndexFileName), index);
    }

    private const string GoodIndex = """
        {
          "metadata": {"total_size": 66},
          "weight_map": {
            "lm_head.weight": "model-00002-of-00002.safetensors",
            "extra.ids": "model-00002-of-00002.safetensors",
            "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
            "model.norm.weight": "model-00001-of-00002.safetensors"
          }
        }
        """;

    [Fact]
    public void Sharded_OpensEachShardOnceAndFindsEveryTensor()
    {
        using var dir = new TempDir();
        WriteSharded(dir, GoodIndex);
        using var src = SafeTensorsCheckpoint.Open(dir.Path);
        var sharded = Assert.IsType<ShardedSafeTensors>(src);
        Assert.Equal(2, sharded.Shards.Count);
        Assert.Equal(66, sharded.TotalSize);
        Assert.Equal(4, sharded.Tensors.Count());
        Assert.Equal(new[] { "lm_head.weight", "model.embed_tokens.weight", "model.norm.weight" }, src.Entries.Select(e => e.Name));
        var norm = src.Find("model.norm.weight")!;
        Assert.Equal(new[] { 1f, 2f }, norm.File.ReadFloats(norm.Offset, 2, norm.Type));
        Assert.EndsWith("model-00002-of-00002.safetensors", sharded.ShardOf("lm_head.weight")!.Path);
        Assert.Same(sharded.Shards[0].Map, src.Find("lm_head.weight")!.File);
        Assert.Null(src.Find("nope"));
        Assert.Throws<FurnaceFormatException>(() => src.Find("extra.ids"));
    }

    [Theory]
    [InlineData("{\"weight_map\": {\"a\": \"model-00003-of-00002.safetensors\"}}", "shard 'model-00003-of-00002.safetensors' (holding tensor 'a') does not exist")]
    [InlineData("{\"weight_map\": {\"a\": \"model-00001-of-00002.safetensors\"}}", "puts tensor 'a' in shard 'model-00001-of-00002.safetensors', which does not contain it")]
    [InlineData("{\"weight_map\": {\"lm_head.weight\": \"../model-00002-of-00002.safetensors\"}}", "outside the checkpoint directory")]
    [InlineData("{\"metadata\": {}}", "has no weight_map")]
    [InlineData("{\"weight_map\": {\"a\": 3}}", "weight_map entry 'a' is not a file name")]
    [InlineData("{\"weight_map\": ", "not valid JSON")]
    public void Sharded_BadIndex_FailsNamingTheIndex(string index, string problem)
    {
        using var dir = new TempDir();
        WriteSharded(dir, index);
        var ex = Assert.Throws<FurnaceFormatException>(() => SafeTensorsCheckpoint.Open(dir.Path).Dispose());
        Assert.EndsWith(ShardedSafeTensors.IndexFileName, ex.Path);
        Assert.Contains(problem, ex.Message);
    }

    [Fact]
    public void Checkpoint_PrefersSingleFileAndAcceptsFilePaths()
    {
        using var dir = new TempDir();
        WriteSharded(dir, GoodIndex);
        new SafeTensorsWriter().Add("only", [1], [3f]).Write(dir.File(SafeTensorsCheckpoint.SingleFileName));
        using (var src = SafeTensorsCheckpoint.Open(dir.Path)) Assert.Equal(new[] { "only" }, src.Entries.Select(e => e.Name));
        using (var src = SafeTensorsCheckpoint.Open(dir.File(ShardedSafeTensors.IndexFileName))) Assert.IsType<ShardedSafeTensors>(src);
        using (var src = SafeTensorsCheckpoint.Open(dir.File("model-00001-of-00002.safetensors"))) Assert.Equal(2, src.Entries.Count());
        using var empty = new TempDir();
        Assert.Contains("neither model.safetensors nor model.safetensors.index.json", Assert.Throws<FurnaceException>(() => SafeTensorsCheckpoint.Open(empty.Path)).Message);
    }

    [Fact]
    public void WeightLoader_OverSafeTensors_GivesFullKeyAndShapesInErrors()
    {
        using var dir = new TempDir();
        float[] q = Random(8 * 4, 3);
        new SafeTensorsWriter()
            .Add("model.layers.0.self_attn.q_proj.weight", [8, 4], q, DType.BF16)
            .Add("model.layers.0.input_layernorm.weight", [4], [1f, 2f, 3f, 4f])
            .Write(dir.File("model.safetensors"));
        using var src = SafeTensorsCheckpoint.Open(dir.Path);
        var layer = new WeightLoader(src).Prefix("model").Prefix("layers.0");

        WeightMatrix m = layer.Matrix("self_attn.q_proj.weight", 8, 4);
        Assert.Equal(DType.BF16, m.Type);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, layer.Vector("input_layernorm.weight", 4));

        var shape = Assert.Throws<FurnaceFormatException>(() => layer.Matrix("self_attn.q_proj.weight", 4, 8));
        Assert.Contains("'model.layers.0.self_attn.q_proj.weight' has shape [8, 4], expected [4, 8]", shape.Message);
        Assert.Contains("model.safetensors", shape.Message);
        var missing = Assert.Throws<FurnaceFormatException>(() => layer.Vector("self_attn.q_proj.bias", 8));
        Assert.Contains("missing tensor 'model.layers.0.self_attn.q_proj.bias'", missing.Message);
        Assert.Null(layer.OptionalVector("self_attn.k_proj.bias", 4));
    }
}
