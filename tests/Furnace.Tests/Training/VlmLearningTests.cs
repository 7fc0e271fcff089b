// Proof that the training graph learns: a tiny VLM (a fixed patch-pooling vision encoder, a fresh mlp2x_gelu
// projector and a random 2-layer Llama with a word-level tokenizer) trained with AdamW on drawn coloured shapes
// ("a red circle on the left") captions held-out renderings exactly; and training only the projector leaves every
// frozen decoder weight bit-identical and never gives a frozen tensor a gradient buffer.
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Models.Llama;
using Furnace.Models.Projectors;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;
using Furnace.Tests.Support;
using Furnace.Training;

namespace Furnace.Tests.Training;

public sealed class VlmLearningTests
{
    private const string Instruction = "Describe.";

    private sealed record Example(TrainingSample Sample, float[] Features, string Caption);

    private static LlavaModel Compose(TempDir dir, int seed)
    {
        string lm = dir.File("lm");
        int vocab = WordTokenizerJson.Write(lm, ShapeCaptions.Pieces(Instruction));
        var c = new LlamaConfig
        {
            Architecture = "llama", Dim = 64, Layers = 2, Heads = 4, KvHeads = 2, HeadDim = 16, FfnDim = 128,
            VocabSize = vocab, MaxPositions = 128, RmsEps = 1e-5f,
        };
        RandomLlama.WriteHuggingFace(lm, c, DType.F32, seed);
        string projector = dir.File("projector.safetensors");
        RandomLlava.WriteProjector(projector, 192, c.Dim, seed);
        return LlavaModel.Compose(new PatchPoolEncoder(), projector, ProjectorKind.Mlp2xGelu, lm);
    }

    private static List<Example> Examples(LlavaTrainable m, IEnumerable<int> renderings, KernelContext ctx)
    {
        var builder = m.SampleBuilder();
        var list = new List<Example>();
        foreach (int r in renderings)
        {
            foreach (var (c, s, p) in ShapeCaptions.All())
            {
                RgbImage image = ShapeCaptions.Draw(c, s, p, seed: r * 1000 + c * 100 + s * 10 + p);
                string caption = ShapeCaptions.Caption(c, s, p);
                list.Add(new Example(builder.Caption(caption, Instruction), m.EncodeImages([image], ctx), caption));
            }
        }
        return list;
    }

    private static TrainingBatch Batch(IReadOnlyList<Example> xs) => TrainingBatch.Collate(xs.Select(x => x.Sample).ToList(), xs.Select(x => x.Features).ToList(), padId: 0);

    private static double MeanLoss(LlavaTrainable m, Tape tape, IReadOnlyList<Example> xs)
    {
        bool was = tape.Enabled;
        tape.Enabled = false;
        double loss = m.Loss(tape, Batch(xs)).Data[0];
        tape.Enabled = was;
        return loss;
    }

    private static void Train(LlavaTrainable m, Tape tape, List<Example> train, int steps, int batchSize, float lr)
    {
        var opt = new AdamW(m.ParameterGroups(projectorLr: lr, loraLr: lr, lmLr: lr));
        var rng = new Random(7);
        var order = Enumerable.Range(0, train.Count).ToArray();
        int at = order.Length;
        for (int step = 0; step < steps; step++)
        {
            if (at + batchSize > order.Length)
            {
                rng.Shuffle(order);
                at = 0;
            }
            var batch = Batch(order.Skip(at).Take(batchSize).Select(i => train[i]).ToList());
            at += batchSize;
            tape.Backward(m.Loss(tape, batch));
            GradientClipping.ClipByGlobalNorm(m.Parameters, 1.0);
            opt.Step(Math.Min(1.0, (step + 1) / 20.0));
            opt.ZeroGrad();
        }
    }

    [Fact]
    public void FullTraining_Shapes_CaptionsHeldOutImages()
    {
        using var dir = new TempDir();
        using var ctx = new KernelContext(2);
        using var model = Compose(dir, seed: 1);
        var m = LlavaTrainable.FromModel(model, new LlavaTrainingOptions { Language = LlamaTraining.Full, FreshProjector = true, Seed = 1 });
        List<Example> train = Examples(m, [0, 1, 2, 3], ctx), heldOut = Examples(m, [9], ctx);
        Assert.All(train, x => Assert.Equal(7, x.Sample.AnswerTokens)); // six words and </s>: the tokenizer is word-level

        // the frozen features carry the caption: each held-out image's nearest training image has its caption
        int nearestRight = heldOut.Count(h => train.MinBy(t => t.Features.Zip(h.Features, (a, b) => (a - b) * (a - b)).Sum())!.Caption == h.Caption);
        Assert.True(nearestRight >= heldOut.Count * 9 / 10, $"features tell only {nearestRight}/{heldOut.Count} held-out images apart");

        var tape = new Tape(ctx);
        double before = MeanLoss(m, tape, heldOut);
        Train(m, tape, train, steps: 300, batchSize: 12, lr: 3e-3f);
        double after = MeanLoss(m, tape, heldOut);
        Assert.True(after < 0.3 * before, $"held-out loss went from {before:F3} to {after:F3}");

        int[] prompt = m.SampleBuilder().CaptionPrompt(Instruction);
        int right = 0;
        var wrong = new List<string>();
        foreach (Example x in heldOut)
        {
            string said = model.Tokenizer.Decode(m.GenerateGreedy(tape, prompt, x.Features, 1, maxTokens: 10)).Trim();
            if (said == x.Caption) right++;
            else wrong.Add($"'{said}' for '{x.Caption}'");
        }
        Assert.True(right >= heldOut.Count * 8 / 10, $"{right}/{heldOut.Count} held-out captions exactly right; wrong: {string.Join("; ", wrong)}");
    }

    [Fact]
    public void ProjectorOnly_FrozenWeightsBitIdentical_NoFrozenGradients()
    {
        using var dir = new TempDir();
        using var ctx = new KernelContext(2);
        using var model = Compose(dir, seed: 2);
        var m = LlavaTrainable.FromModel(model, new LlavaTrainingOptions { Language = LlamaTraining.Frozen, FreshProjector = true, Seed = 2 });
        Assert.Equal(["projector"], m.ParameterGroups(1e-3f, 1e-3f, 1e-3f).Select(g => g.Name));
        Assert.Equal(4, m.Parameters.Count);
        var frozenBefore = m.Language.MergedTensors().ToDictionary(t => t.Key, t => t.Values);
        List<Example> train = Examples(m, [0], ctx);

        var tape = new Tape(ctx);
        double before = MeanLoss(m, tape, train);
        Train(m, tape, train, steps: 40, batchSize: 12, lr: 3e-3f);
        double after = MeanLoss(m, tape, train);
        Assert.True(after < before, $"projector-only training did not lower the loss ({before:F3} -> {after:F3})");

        foreach (var (key, _, values) in m.Language.MergedTensors())
            Assert.True(frozenBefore[key].AsSpan().SequenceEqual(values), $"frozen tensor {key} changed");
        var frozenTensors = m.Language.Layers.SelectMany(l => new[] { l.AttnNorm, l.FfnNorm }).Append(m.Language.OutputNorm);
        Assert.All(frozenTensors, t => Assert.Null(t.Grad));
        Assert.All(m.Language.Layers.SelectMany(l => l.Linears), l => Assert.True(l.IsFrozen && l.Lora == null));
        Assert.All(m.Parameters, p => Assert.NotNull(p.Grad));
    }
}
