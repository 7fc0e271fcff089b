// The autograd tape on a composed graph against PyTorch autograd (Oracles/autograd_reference.py, float64):
// Linear(+bias) -> RmsNorm -> q/k/v Linear -> Rope (HalfSplit) -> causal GQA Attention -> SiluMul -> Linear ->
// CrossEntropy with ignored rows. The loss and the gradient of every input must match within 1e-4 relative
// (max |ours − torch| / max |torch| per tensor). Tensors travel as .npy files; config as JSON.
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using Furnace.Formats.Npy;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;
using Furnace.Tests.Support;

namespace Furnace.Tests.Training;

public sealed class AutogradTorchTests
{
    private const int Batch = 2, Seq = 6, Dim = 32, Heads = 4, KvHeads = 2, HeadDim = 8, Hidden = 24, Vocab = 11;
    private const float Eps = 1e-5f, Theta = 10000f;

    [Fact]
    public void Backward_ComposedLlamaBlock_MatchesPyTorchAutograd()
    {
        int n = Batch * Seq;
        var rng = new Random(12);
        Tensor P(string name, params int[] shape)
        {
            int len = shape.Aggregate(1, (a, b) => a * b);
            var data = new float[len];
            float scale = shape.Length == 2 ? 1f / MathF.Sqrt(shape[1]) : 1f;
            for (int i = 0; i < len; i++) data[i] = (float)(rng.NextDouble() * 2 - 1) * scale * (name == "g" ? 0.5f : 1f) + (name == "g" ? 1f : 0f);
            return Tensor.Parameter(name, shape, data);
        }
        Tensor x = P("x", n, Dim), wIn = P("w_in", Dim, Dim), bIn = P("b_in", Dim), g = P("g", Dim);
        Tensor wq = P("wq", Heads * HeadDim, Dim), wk = P("wk", KvHeads * HeadDim, Dim), wv = P("wv", KvHeads * HeadDim, Dim);
        Tensor wg = P("wg", Hidden, Heads * HeadDim), wu = P("wu", Hidden, Heads * HeadDim), wOut = P("w_out", Vocab, Hidden);
        Tensor[] all = [x, wIn, bIn, g, wq, wk, wv, wg, wu, wOut];
        int[] positions = Enumerable.Range(0, n).Select(i => i % Seq).ToArray();
        int[] targets = Enumerable.Range(0, n).Select(i => i % 5 == 2 ? -100 : rng.Next(Vocab)).ToArray();

        using var ctx = new KernelContext(2);
        var tape = new Tape(ctx);
        var table = new RopeTable(HeadDim, Seq, Theta);
        Tensor h = tape.RmsNorm(tape.Linear(x, wIn, bIn), g, Eps);
        Tensor q = tape.Rope(tape.Linear(h, wq), positions, Heads, HeadDim, table, RopeStyle.HalfSplit);
        Tensor k = tape.Rope(tape.Linear(h, wk), positions, KvHeads, HeadDim, table, RopeStyle.HalfSplit);
        Tensor a = tape.Attention(q, k, tape.Linear(h, wv), Batch, Seq, Heads, KvHeads, causal: true);
        Tensor m = tape.SiluMul(tape.Linear(a, wg), tape.Linear(a, wu));
        Tensor loss = tape.CrossEntropy(tape.Linear(m, wOut), targets);
        float ours = loss.Data[0];
        tape.Backward(loss);

        using var dir = new TempDir();
        foreach (Tensor t in all) NpyWriter.WriteFloat32(dir.File(t.Name + ".npy"), t.Shape, t.Data);
        File.WriteAllText(dir.File("config.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["batch"] = Batch, ["seq"] = Seq, ["heads"] = Heads, ["kv_heads"] = KvHeads, ["head_dim"] = HeadDim,
            ["eps"] = (double)Eps, ["theta"] = (double)Theta, ["positions"] = positions, ["targets"] = targets,
        }));
        PyTorchOracle.Run("autograd_reference.py", dir.Path);

        double torchLoss = ReadNpyF64(dir.File("out_loss.npy"))[0];
        Assert.True(Math.Abs(ours - torchLoss) <= 1e-4 * Math.Abs(torchLoss), $"loss {ours} vs torch {torchLoss}");
        foreach (Tensor t in all)
        {
            double[] expect = ReadNpyF64(dir.File("grad_" + t.Name + ".npy"));
            Assert.Equal(expect.Length, t.Grad!.Length);
            double scale = expect.Max(Math.Abs), err = 0;
            for (int i = 0; i < expect.Length; i++) err = Math.Max(err, Math.Abs(t.Grad[i] - expect[i]));
            Assert.True(scale > 0, $"torch gradient of {t.Name} is all zero");
            Assert.True(err <= 1e-4 * scale, $"gradient of {t.Name}: max |ours - torch| = {err:E3}, max |torch| = {scale:E3}");
        }
    }

    // a little-endian float64 C-order .npy (what numpy.save writes for float64 arrays)
    private static double[] ReadNpyF64(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        int headerLen = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8, 2));
        string header = Encoding.ASCII.GetString(bytes, 10, headerLen);
        Assert.Contains("'descr': '<f8'", header);
        Assert.Contains("'fortran_order': False", header);
        int start = 10 + headerLen;
        var data = new double[(bytes.Length - start) / 8];
        for (int i = 0; i < data.Length; i++) data[i] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(start + 8 * i, 8));
        return data;
    }
}
