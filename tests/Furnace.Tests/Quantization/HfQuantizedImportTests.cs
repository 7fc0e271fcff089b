// GPTQ (AutoGPTQ v1 / gptq_v2) and AWQ GEMM checkpoints written by Oracles/hf_quant_pack.py, a PyTorch packer that
// follows the formats' public packing code and writes the reference dequantization computed from the packed
// tensors by its own unpacker: our unpacking equals it exactly, the claimed lossless block encodings decode to the
// same values, the model gives the logits of the same model stored unquantized, and `convert` keeps the blocks.
using Furnace.Formats.Gguf;
using Furnace.Formats.HfConfig;
using Furnace.Formats.SafeTensors;
using Furnace.Formats.Weights;
using Furnace.Models;
using Furnace.Models.Llama;
using Furnace.Formats.Quantized;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Quantization;

public sealed class HfQuantizedImportTests
{
    // every linear has 128 or 256 inputs and 64..256 outputs: groups of 32 and 128, and -1, all apply
    private static readonly LlamaConfig Tiny = new()
    {
        Architecture = "llama", Dim = 128, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 32, FfnDim = 256, VocabSize = 320,
        MaxPositions = 128, RmsEps = 1e-5f,
    };

    private static readonly string[] Linears =
        ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj", "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"];

    private sealed record Packed(string Quantized, string Dequantized);

    // sourceType: of the float checkpoint's 2-D tensors, which the unquantized embedding and head keep
    private static Packed Pack(TempDir dir, string method, int bits, int group, bool descAct, bool sym, string format = "gptq", bool coarse = false,
        DType sourceType = DType.F32)
    {
        string src = dir.File("float"), q = dir.File("quantized"), d = dir.File("dequantized");
        RandomLlama.WriteHuggingFace(src, Tiny, sourceType, seed: 11);
        HfTokenizerJson.WriteSynthetic(src, Tiny.VocabSize);
        PyTorchOracle.Run("hf_quant_pack.py", src, q, d, method, bits.ToString(), group.ToString(), descAct ? "true" : "false",
            sym ? "true" : "false", format, coarse ? "true" : "false", "7");
        return new Packed(q, d);
    }

    private static (int Rows, int Cols) Shape(string linear) => linear switch
    {
        "self_attn.q_proj" or "self_attn.o_proj" => (Tiny.QDim, Tiny.Dim),
        "self_attn.k_proj" or "self_attn.v_proj" => (Tiny.KvDim, Tiny.Dim),
        "mlp.gate_proj" or "mlp.up_proj" => (Tiny.FfnDim, Tiny.Dim),
        _ => (Tiny.Dim, Tiny.FfnDim),
    };

    private static float[] Logits(string dir, HfQuantizedForm form)
    {
        int[] tokens = Enumerable.Range(0, 20).Select(i => 3 + i * 37 % (Tiny.VocabSize - 3)).ToArray();
        using var m = ModelLoader.OpenHuggingFace(dir, null, 1f, form);
        using var ctx = new KernelContext(2);
        var s = m.NewState(64, maxBatch: 32);
        m.Forward(tokens, s, ctx, allLogits: true);
        return s.Logits.AsSpan(0, tokens.Length * Tiny.VocabSize).ToArray();
    }

    [Theory]
    [InlineData("gptq", 4, 128, false, true, "gptq", false, DType.Q4_0)]
    [InlineData("gptq", 4, 32, false, true, "gptq", false, DType.Q4_0)]
    [InlineData("gptq", 4, -1, false, true, "gptq", false, DType.Q4_0)]
    [InlineData("gptq", 4, 32, true, true, "gptq", false, null)]      // act-order: a block's columns span groups
    [InlineData("gptq", 4, 32, false, false, "gptq", false, null)]    // asymmetric: scale*zero rarely fits f16
    [InlineData("gptq", 4, 128, false, false, "gptq_v2", true, DType.Q4_1)]
    [InlineData("gptq", 4, 128, true, false, "gptq", false, null)]
    [InlineData("gptq", 2, 32, false, false, "gptq", false, null)]
    [InlineData("gptq", 8, 128, false, true, "gptq", false, DType.Q8_0)]
    [InlineData("gptq", 8, 32, true, false, "gptq", false, null)]
    [InlineData("gptq", 8, -1, false, false, "gptq_v2", false, null)]
    [InlineData("awq", 4, 128, false, false, "gemm", false, null)]
    [InlineData("awq", 4, 32, false, false, "gemm", true, DType.Q4_1)]
    public void Import_PackedByPyTorch_DequantizesExactlyAndRunsAsTheUnquantizedModel(
        string method, int bits, int group, bool descAct, bool sym, string format, bool coarse, DType? lossless)
    {
        using var dir = new TempDir();
        var p = Pack(dir, method, bits, group, descAct, sym, format, coarse);
        var raw = HfConfigFile.Read(Path.Combine(p.Quantized, "config.json"));
        HfQuantization q = HfQuantization.FromConfig(raw, "config.json")!;
        Assert.Equal(format == "gptq" ? 1 : 0, q.ZeroOffset);

        using var source = SafeTensorsCheckpoint.Open(Path.Combine(p.Quantized, "model.safetensors"));
        using var reference = SafeTensorsFile.Open(Path.Combine(p.Quantized, "reference.safetensors"));
        var refs = new WeightLoader(reference);
        for (int layer = 0; layer < Tiny.Layers; layer++)
            foreach (string linear in Linears)
            {
                string module = $"model.layers.{layer}.{linear}";
                var (rows, cols) = Shape(linear);
                QuantizedLinear l = QuantizedLinear.TryLoad(new WeightLoader(source).Prefix(module), q, rows, cols)!;
                float[] want = refs.Floats(module + ".weight", rows, cols), got = l.Dequantize();
                for (int i = 0; i < want.Length; i++)
                    Assert.True(want[i] == got[i], $"{module}[{i / cols}, {i % cols}]: {got[i]} vs PyTorch {want[i]}");

                byte[]? blocks = LosslessBlocks.TryEncode(l, out DType type);
                Assert.Equal(lossless, blocks == null ? null : type);
                if (blocks == null) continue;
                var row = new float[cols];
                int rowBytes = (int)DTypes.RowBytes(type, cols);
                for (int r = 0; r < rows; r++)
                {
                    Dequantize.Bytes(row, blocks.AsSpan(r * rowBytes, rowBytes), type);
                    for (int i = 0; i < cols; i++) Assert.True(row[i] == want[r * cols + i], $"{module} {type} [{r}, {i}]: {row[i]} vs {want[r * cols + i]}");
                }
            }

        float[] a = Logits(p.Quantized, HfQuantizedForm.F32), b = Logits(p.Dequantized, HfQuantizedForm.F32);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) <= 1e-5f, $"logit {i}: {a[i]} vs {b[i]}");
    }

    [Theory]
    [InlineData("gptq", 4, 128, true, "gptq", false, DType.Q4_0)]
    [InlineData("awq", 4, 32, false, "gemm", true, DType.Q4_1)]
    public void Convert_DefaultType_KeepsLosslessBlocksAndTheLogitsOfTheLoadedCheckpoint(
        string method, int bits, int group, bool sym, string format, bool coarse, DType blockType)
    {
        using var dir = new TempDir();
        // f16 embedding and head, so that the GGUF's f16 copies of them hold the same values
        var p = Pack(dir, method, bits, group, descAct: false, sym, format, coarse, DType.F16);
        string gguf = dir.File("m.gguf");
        HfToGgufConverter.Convert(p.Quantized, gguf, null, null);

        using (var f = GgufFile.Open(gguf))
        using (var reference = SafeTensorsFile.Open(Path.Combine(p.Quantized, "reference.safetensors")))
        {
            foreach (string name in new[] { "blk.0.attn_q.weight", "blk.1.attn_v.weight", "blk.1.ffn_down.weight" })
                Assert.Equal(blockType, f.Find(name)!.Type);
            Assert.Equal(DType.F32, f.Find("blk.0.attn_norm.weight")!.Type);
            Assert.Equal(DType.F16, f.Find("token_embd.weight")!.Type); // not quantized in the checkpoint: the f16 default
            // v_proj is not row-permuted: its GGUF rows are the reference rows, value for value
            TensorEntry v = f.Find("blk.1.attn_v.weight")!;
            float[] got = v.File.ReadFloats(v.Offset, Tiny.KvDim * Tiny.Dim, v.Type);
            float[] want = new WeightLoader(reference).Floats("model.layers.1.self_attn.v_proj.weight", Tiny.KvDim, Tiny.Dim);
            Assert.Equal(want, got);
        }

        float[] a = Logits(p.Quantized, HfQuantizedForm.Lossless);
        int[] tokens = Enumerable.Range(0, 20).Select(i => 3 + i * 37 % (Tiny.VocabSize - 3)).ToArray();
        using var m = ModelLoader.OpenLlama(gguf);
        using var ctx = new KernelContext(2);
        var s = m.NewState(64, maxBatch: 32);
        m.Forward(tokens, s, ctx, allLogits: true);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - s.Logits[i]) < 1e-4f, $"logit {i}: HF {a[i]} vs GGUF {s.Logits[i]}");
    }

    [Theory]
    [InlineData("bitsandbytes", "bitsandbytes is not supported")]
    [InlineData("fp8", "fp8 is not supported")]
    public void FromConfig_UnknownMethod_OneLineNamingIt(string method, string expected)
    {
        var raw = HfConfigFile.Parse(System.Text.Encoding.UTF8.GetBytes("{\"quantization_config\": {\"quant_method\": \"" + method + "\"}}"), "config.json");
        var e = Assert.Throws<FurnaceException>(() => HfQuantization.FromConfig(raw, "config.json"));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void FromConfig_GptqDefaultsAndV2_Validated()
    {
        var raw = HfConfigFile.Parse("{\"quantization_config\": {\"quant_method\": \"gptq\", \"bits\": 8, \"group_size\": -1, \"checkpoint_format\": \"gptq_v2\"}}"u8.ToArray(), "c");
        var q = HfQuantization.FromConfig(raw, "c")!;
        Assert.Equal((HfQuantMethod.Gptq, 8, (int?)null, false, true, 0), (q.Method, q.Bits, q.GroupSize, q.DescAct, q.Sym, q.ZeroOffset));
        raw = HfConfigFile.Parse("{\"quantization_config\": {\"quant_method\": \"gptq\", \"bits\": 3}}"u8.ToArray(), "c");
        Assert.Contains("GPTQ with 3 bits", Assert.Throws<FurnaceException>(() => HfQuantization.FromConfig(raw, "c")).Message);
        raw = HfConfigFile.Parse("{\"quantization_config\": {\"quant_method\": \"awq\", \"version\": \"gemv\"}}"u8.ToArray(), "c");
        Assert.Contains("AWQ version 'gemv'", Assert.Throws<FurnaceException>(() => HfQuantization.FromConfig(raw, "c")).Message);
        Assert.Null(HfQuantization.FromConfig(HfConfigFile.Parse("{}"u8.ToArray(), "c"), "c"));
    }

    // A hand-written 4-bit GPTQ linear (out 8, in 64, group 32) with one tensor broken at a time.
    private static FurnaceFormatException BadGptq(string broken)
    {
        using var dir = new TempDir();
        var w = new SafeTensorsWriter();
        static byte[] Ints(int n, int value) => Enumerable.Repeat(value, n).SelectMany(BitConverter.GetBytes).ToArray();
        w.AddRaw("m.qweight", "I32", broken == "qweight" ? [4, 8] : [8, 8], Ints(broken == "qweight" ? 32 : 64, 0x76543210));
        w.AddRaw("m.qzeros", "I32", [2, 1], Ints(2, 0x77777777));
        if (broken != "scales") w.Add("m.scales", [2, 8], Enumerable.Repeat(0.5f, 16).ToArray(), DType.F16);
        w.AddRaw("m.g_idx", "I32", [64], Enumerable.Range(0, 64).Select(i => broken == "g_idx" && i == 40 ? 2 : i / 32).SelectMany(BitConverter.GetBytes).ToArray());
        string path = dir.File("model.safetensors");
        w.Write(path);
        using var src = SafeTensorsFile.Open(path);
        var q = new HfQuantization { Method = HfQuantMethod.Gptq, Bits = 4, GroupSize = 32, ZeroOffset = 1 };
        return Assert.Throws<FurnaceFormatException>(() => QuantizedLinear.TryLoad(new WeightLoader(src).Prefix("m"), q, 8, 64));
    }

    [Theory]
    [InlineData("qweight", "tensor 'm.qweight' has shape [4, 8], expected [8, 8]")]
    [InlineData("g_idx", "tensor 'm.g_idx' puts input column 40 in group 2, outside 0..1")]
    [InlineData("scales", "missing tensor 'm.scales'")]
    public void TryLoad_BrokenTensor_OneLineNamingIt(string broken, string expected)
    {
        var e = BadGptq(broken);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TryLoad_HandPackedV1Word_UnpacksCodesAlongInputAndZerosPlusOne()
    {
        using var dir = new TempDir();
        var w = new SafeTensorsWriter();
        // one output column, 8 inputs in one word: codes 0..7 at bits 0, 4, …, 28; stored zero 7 -> zero 8; scale 0.5
        w.AddRaw("m.qweight", "I32", [1, 8], Enumerable.Range(0, 8).Select(o => o == 0 ? 0x76543210 : 0).SelectMany(BitConverter.GetBytes).ToArray());
        w.AddRaw("m.qzeros", "I32", [1, 1], BitConverter.GetBytes(0x77777777));
        w.Add("m.scales", [1, 8], Enumerable.Repeat(0.5f, 8).ToArray(), DType.F16);
        string path = dir.File("model.safetensors");
        w.Write(path);
        using var src = SafeTensorsFile.Open(path);
        var q = new HfQuantization { Method = HfQuantMethod.Gptq, Bits = 4, GroupSize = null, ZeroOffset = 1 };
        QuantizedLinear l = QuantizedLinear.TryLoad(new WeightLoader(src).Prefix("m"), q, 8, 8)!;
        Assert.Equal(new float[] { -4f, -3.5f, -3f, -2.5f, -2f, -1.5f, -1f, -0.5f }, l.Dequantize().AsSpan(0, 8).ToArray());
        Assert.All(l.Dequantize().AsSpan(8).ToArray(), x => Assert.Equal(-4f, x));
    }
}
