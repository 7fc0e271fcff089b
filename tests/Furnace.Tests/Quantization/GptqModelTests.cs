// GPTQ over the trained default decoder (models/furnace-captioner-tiny: 4 layers, dim 256, ffn 704), layer by layer
// with a seeded text calibration: for every GPTQ-quantized linear the layer error on its calibration inputs X,
// tr(ΔH Δᵀ) = 2/N ‖(W − Ŵ)X‖², is below round-to-nearest's (Quantize.Row of W). At q3_K / q2_K the down projections
// (704 columns, not a multiple of 256) are not GPTQ'd: they take the RTN fallback type, as llama-quantize does.
// The written GGUF loads and its logits stay close to the f32 decoder's (a wrong Q/K row permutation would not).
using Furnace.Formats.Gguf;
using Furnace.Models.Llama;
using Furnace.Models.Vlm;
using Furnace.Quantization.Gptq;
using Furnace.Tensors;
using Furnace.Tests.Support;
using Xunit.Abstractions;

namespace Furnace.Tests.Quantization;

public sealed class GptqModelTests(ITestOutputHelper output)
{
    // caption-style English; the default model was trained on captions
    internal const string CalibrationText =
        "a red circle next to a blue square on a white background. two small green triangles above a yellow star. " +
        "a dog sitting on the grass in front of a house. a man riding a bicycle down a city street. " +
        "a plate of food with rice and vegetables on a wooden table. a cat sleeping on a couch near a window. " +
        "an orange square below a purple circle. a group of people standing on a beach at sunset. " +
        "a black and white photo of a train at a station. a bowl of fruit with apples and bananas. " +
        "a large blue triangle and a small red square. a bird flying over the water under a cloudy sky. " +
        "a kitchen with a stove, a sink and a refrigerator. a child playing with a ball in the park. ";

    public static TheoryData<string> Types => new() { "q4_0", "q3_K", "q2_K" };

    [Theory]
    [MemberData(nameof(Types))]
    public void HfToGguf_TrainedTinyDecoder_EveryGptqLinearBeatsRoundToNearest(string typeName)
    {
        Assert.True(DTypes.TryParse(typeName, out DType type));
        using var dir = new TempDir();
        string text = dir.File("calib.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat(CalibrationText, 3)));
        using var ctx = new KernelContext(2);
        var ratios = new List<(string Name, double Ratio)>();
        string gguf = dir.File($"gptq-{typeName}.gguf");
        var cal = new GptqCalibrationOptions { Path = text, Samples = 8, Length = 48, Seed = 3 };
        var results = GptqModel.HfToGguf(DefaultModel.Require(), gguf, type, cal, new GptqOptions(), ctx, solved: (name, w, r, h) =>
        {
            var rtn = new float[w.Length];
            var buf = new byte[DTypes.RowBytes(r.Type, r.Cols)];
            for (int row = 0; row < r.Rows; row++)
            {
                Tensors.Quantize.Row(buf, w.AsSpan(row * r.Cols, r.Cols), r.Type);
                Dequantize.Bytes(rtn.AsSpan(row * r.Cols, r.Cols), buf, r.Type);
            }
            double eg = GptqSolverTests.LayerError(w, r.Dequantized, h, r.Rows, r.Cols);
            double er = GptqSolverTests.LayerError(w, rtn, h, r.Rows, r.Cols);
            lock (ratios) ratios.Add((name, eg / er));
        });
        foreach (var (name, ratio) in ratios) output.WriteLine($"{typeName} {name}: GPTQ/RTN layer error {ratio:F3}");
        int expected = type == DType.Q4_0 ? 4 * 7 : 4 * 6;
        Assert.Equal(expected, results.Count);
        Assert.Equal(expected, ratios.Count);
        Assert.All(ratios, r => Assert.True(r.Ratio < 1, $"{r.Name}: GPTQ/RTN = {r.Ratio:F3}"));

        using var f = GgufFile.Open(gguf);
        Assert.Equal(type, f.Tensors.Single(t => t.Name == "blk.0.attn_q.weight").Type);
    }

    [Fact]
    public void HfToGguf_Q4_0_LoadsAndLogitsTrackTheF32Decoder()
    {
        using var dir = new TempDir();
        string text = dir.File("calib.txt");
        File.WriteAllText(text, CalibrationText);
        using var ctx = new KernelContext(2);
        string model = DefaultModel.Require(), gptq = dir.File("gptq.gguf"), f32 = dir.File("f32.gguf");
        GptqModel.HfToGguf(model, gptq, DType.Q4_0, new GptqCalibrationOptions { Path = text, Samples = 4, Length = 32 }, new GptqOptions { ActOrder = true }, ctx);
        HfToGgufConverter.Convert(model, f32, DType.F32);
        float[] Logits(string path)
        {
            using var m = LlamaModel.FromGguf(GgufFile.Open(path));
            var s = m.NewState(32);
            int[] ids = [1, 10, 200, 37, 999, 5, 77];
            m.Forward(ids, s, ctx);
            return s.Logits.AsSpan(0, m.Config.VocabSize).ToArray();
        }
        float[] a = Logits(gptq), b = Logits(f32);
        double dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++) { dot += a[i] * b[i]; na += a[i] * a[i]; nb += b[i] * b[i]; }
        double cos = dot / Math.Sqrt(na * nb);
        output.WriteLine($"cosine(GPTQ q4_0 logits, f32 logits) = {cos:F4}");
        Assert.True(cos > 0.95, $"cosine {cos:F4}");
    }

    [Fact]
    public void TextWindows_EmptyFile_ErrorNamesTheFile()
    {
        using var dir = new TempDir();
        string text = dir.File("empty.txt");
        File.WriteAllText(text, "  \n");
        var tok = Furnace.Formats.Tokenizers.Tokenizer.FromHuggingFace(Path.Combine(DefaultModel.Require(), "tokenizer.json"));
        var e = Assert.Throws<FurnaceException>(() => GptqCalibration.TextWindows(text, tok, 4, 16, 1));
        Assert.Contains("empty.txt", e.Message);
        Assert.Contains("empty", e.Message);
    }
}
