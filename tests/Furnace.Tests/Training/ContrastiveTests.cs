// CLIP's symmetric InfoNCE loss against PyTorch (float64: loss and the gradients of both embedding sets and of the
// log temperature within 1e-4), the temperature clamp, and a projector pair that learns to align two views of the
// same hidden vectors (held-out pairs retrieved top-1).
using System.Text.Json;
using Furnace.Formats.Npy;
using Furnace.Models.Projectors;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;
using Furnace.Tests.Support;
using Furnace.Training;
using Furnace.Training.Losses;

namespace Furnace.Tests.Training;

public sealed class ContrastiveTests
{
    private static float[] Random(int n, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    [Fact]
    public void InfoNce_LossAndGradients_MatchPyTorch()
    {
        using var dir = new TempDir();
        using var ctx = new KernelContext(1);
        const int n = 6, d = 8;
        var images = Tensor.Parameter("images", [n, d], Random(n * d, 1));
        var texts = Tensor.Parameter("texts", [n, d], Random(n * d, 2));
        var scale = Tensor.Parameter("logit_scale", [1], [1.3f]);
        var tape = new Tape(ctx);
        Tensor loss = InfoNce.Loss(tape, images, texts, scale);
        tape.Backward(loss);

        NpyWriter.WriteFloat32(dir.File("images.npy"), [n, d], images.Data);
        NpyWriter.WriteFloat32(dir.File("texts.npy"), [n, d], texts.Data);
        File.WriteAllText(dir.File("req.json"), JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["mode"] = "infonce", ["images"] = dir.File("images.npy"), ["texts"] = dir.File("texts.npy"), ["logit_scale"] = 1.3f,
        }));
        PyTorchOracle.Run("vlm_train_step.py", dir.File("req.json"), dir.File("out"));
        double expected = NpyReader.Read(dir.File("out/loss.npy")).Values[0];
        Assert.True(Math.Abs(loss.Data[0] - expected) <= 1e-4 * Math.Abs(expected), $"loss {loss.Data[0]} vs PyTorch {expected}");
        foreach (Tensor t in new[] { images, texts, scale })
            GradientAssert.Close(t.Name!, t.Grad!, NpyReader.Read(dir.File($"out/{t.Name}.npy")).Values, 1e-4);
    }

    [Fact]
    public void Clamp_KeepsLogitScaleWithinClipRange()
    {
        var t = InfoNce.LogitScale();
        Assert.Equal(MathF.Log(1 / 0.07f), t.Data[0], 6);
        t.Data[0] = 9f;
        InfoNce.Clamp(t);
        Assert.Equal(MathF.Log(100f), t.Data[0], 6);
        t.Data[0] = -1f;
        InfoNce.Clamp(t);
        Assert.Equal(0f, t.Data[0]);
    }

    [Fact]
    public void ProjectorPair_TwoViews_AlignsHeldOutPairs()
    {
        // hidden vectors z (16-d); "image features" = A z + noise (24-d), "text features" = B z + noise (20-d)
        const int hidden = 16, di = 24, dt = 20, train = 256, test = 32;
        float[] a = Random(di * hidden, 3, 0.5f), b = Random(dt * hidden, 4, 0.5f);
        (float[] I, float[] T) Views(int n, int seed)
        {
            float[] z = Random(n * hidden, seed), noise = Random(n * (di + dt), seed + 1, 0.05f);
            var im = new float[n * di];
            var tx = new float[n * dt];
            for (int s = 0; s < n; s++)
            {
                for (int r = 0; r < di; r++)
                    for (int k = 0; k < hidden; k++) im[s * di + r] += a[r * hidden + k] * z[s * hidden + k];
                for (int r = 0; r < dt; r++)
                    for (int k = 0; k < hidden; k++) tx[s * dt + r] += b[r * hidden + k] * z[s * hidden + k];
                for (int r = 0; r < di; r++) im[s * di + r] += noise[s * (di + dt) + r];
                for (int r = 0; r < dt; r++) tx[s * dt + r] += noise[s * (di + dt) + di + r];
            }
            return (im, tx);
        }
        var (trainI, trainT) = Views(train, 10);
        var (testI, testT) = Views(test, 20);

        using var ctx = new KernelContext(2);
        var pair = ContrastiveTraining.Initial(ProjectorKind.Mlp2xGelu, di, dt, 32, seed: 5);
        var opt = new AdamW(pair.ParameterGroups(3e-3f));
        var tape = new Tape(ctx);
        double Loss(float[] i, float[] t, int n)
        {
            tape.Enabled = false;
            double l = pair.Loss(tape, i, t, n).Data[0];
            tape.Enabled = true;
            return l;
        }
        double before = Loss(testI, testT, test);
        const int batch = 32;
        for (int step = 0; step < 300; step++)
        {
            int at = step * batch % train;
            tape.Backward(pair.Loss(tape, trainI[(at * di)..((at + batch) * di)], trainT[(at * dt)..((at + batch) * dt)], batch));
            opt.Step();
            opt.ZeroGrad();
            pair.AfterStep();
        }
        double after = Loss(testI, testT, test);
        Assert.True(after < 0.3 * before, $"held-out InfoNCE went from {before:F3} to {after:F3}");

        tape.Enabled = false;
        var (ei, et) = pair.Embed(tape, testI, testT, test);
        Tensor sim = tape.MatMul(tape.L2Normalize(ei), tape.Transpose(tape.L2Normalize(et)));
        int right = 0;
        for (int r = 0; r < test; r++)
        {
            int best = 0;
            for (int c = 1; c < test; c++)
                if (sim.Data[r * test + c] > sim.Data[r * test + best]) best = c;
            if (best == r) right++;
        }
        Assert.True(right >= test * 9 / 10, $"{right}/{test} held-out images retrieve their own text");
        Assert.InRange(pair.LogitScale.Data[0], 0f, MathF.Log(100f));
    }
}
