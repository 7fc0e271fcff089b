// The whole-step oracle of LLaVA training: on a tiny random LLaVA in the real HF layout, the loss of a two-sample
// batch (a caption and a two-turn conversation, right-padded) and the gradient of EVERY trainable tensor — the
// projector with LoRA factors on a frozen Llama decoder, and the projector with every weight of a Qwen2-style decoder
// (q/k/v biases, tied embeddings) — match a float64 PyTorch reference (Oracles/vlm_train_step.py) within 1e-4
// relative to each tensor's largest gradient.
using System.Text.Json;
using Furnace.Formats.Npy;
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;
using Furnace.Tests.Models;
using Furnace.Tests.Support;
using Furnace.Training;

namespace Furnace.Tests.Training;

public sealed class VlmTrainStepOracleTests
{
    public static string WriteTiny(TempDir dir, bool qwen, int seed = 11)
    {
        string model = Path.Combine(dir.Path, qwen ? "llava-qwen" : "llava");
        TinyLlava.Write(model, seed, c => qwen ? c with { Text = c.Text with { Architecture = "qwen2", AttentionBias = true, TiedEmbeddings = true } } : c);
        return model;
    }

    public static TrainingBatch TwoSampleBatch(LlavaTrainable m, KernelContext ctx)
    {
        var builder = m.SampleBuilder();
        TrainingSample caption = builder.Caption("a red circle on the left");
        TrainingSample chat = builder.Build([
            new ConversationTurn("human", "<image>\nWhat is it?"), new ConversationTurn("gpt", "a square"),
            new ConversationTurn("human", "Where?"), new ConversationTurn("gpt", "top"),
        ]);
        float[] f1 = m.EncodeImages([LlavaOracleTests.RandomImage(32, 32, 21)], ctx);
        float[] f2 = m.EncodeImages([LlavaOracleTests.RandomImage(40, 36, 22)], ctx);
        return TrainingBatch.Collate([caption, chat], [f1, f2], padId: 0);
    }

    [Fact]
    public void ProjectorAndLora_LossAndEveryGradient_MatchPyTorch()
    {
        using var dir = new TempDir();
        string model = WriteTiny(dir, qwen: false);
        var lora = new LoraConfig { Rank = 4, Alpha = 8, Targets = LoraTargets.List("q_proj", "v_proj", "o_proj", "down_proj") };
        using var probe = LlavaModel.Load(model);
        // B random, not PEFT's zeros: with B = 0 the gradient of A is zero and would prove nothing
        var adapter = LoraAdapter.Create(lora, probe.LlamaDecoder.Config, seed: 3, LlavaTrainable.LanguagePrefix, randomB: true);
        using var m = LlavaTrainable.Load(model, new LlavaTrainingOptions { Language = LlamaTraining.Lora, Adapter = adapter });
        CompareStep(dir, model, m, adapterDir: dir.File("adapter"));
    }

    [Fact]
    public void FullQwen2Decoder_LossAndEveryGradient_MatchPyTorch()
    {
        using var dir = new TempDir();
        string model = WriteTiny(dir, qwen: true);
        using var m = LlavaTrainable.Load(model, new LlavaTrainingOptions { Language = LlamaTraining.Full });
        Assert.Contains(m.Parameters, p => p.Name == "language_model.model.layers.0.self_attn.q_proj.bias");
        Assert.DoesNotContain(m.Parameters, p => p.Name!.Contains("lm_head", StringComparison.Ordinal)); // tied
        CompareStep(dir, model, m, adapterDir: null);
    }

    private static void CompareStep(TempDir dir, string model, LlavaTrainable m, string? adapterDir)
    {
        using var ctx = new KernelContext(2);
        TrainingBatch batch = TwoSampleBatch(m, ctx);
        Assert.True(batch.ScoredTokens > 4);
        var tape = new Tape(ctx);
        Tensor loss = m.Loss(tape, batch);
        tape.Backward(loss);

        if (adapterDir != null) m.SaveAdapter(adapterDir);
        string features = dir.File("features.npy"), req = dir.File("req.json"), outDir = dir.File("out");
        NpyWriter.WriteFloat32(features, [batch.ImageFeatures.Length / m.FeatureDim, m.FeatureDim], batch.ImageFeatures);
        var trainable = m.Parameters.Where(p => !p.Name!.Contains(".lora_", StringComparison.Ordinal)).Select(p => p.Name!).ToArray();
        File.WriteAllText(req, JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = model,
            ["features"] = features,
            ["input_ids"] = Rows(batch.InputIds, batch.Seq),
            ["labels"] = Rows(batch.Labels, batch.Seq),
            ["trainable"] = trainable,
            ["adapter"] = adapterDir,
        }));
        PyTorchOracle.Run("vlm_train_step.py", req, outDir);

        double expectedLoss = NpyReader.Read(Path.Combine(outDir, "loss.npy")).Values[0];
        Assert.True(Math.Abs(loss.Data[0] - expectedLoss) <= 1e-4 * Math.Abs(expectedLoss), $"loss {loss.Data[0]} vs PyTorch {expectedLoss}");
        Assert.NotEmpty(m.Parameters);
        foreach (Tensor p in m.Parameters)
        {
            var (shape, expected) = NpyReader.Read(Path.Combine(outDir, p.Name + ".npy"));
            Assert.Equal(p.Shape, shape);
            Assert.NotNull(p.Grad);
            GradientAssert.Close(p.Name!, p.Grad!, expected, 1e-4);
        }
    }

    private static int[][] Rows(int[] flat, int seq) => Enumerable.Range(0, flat.Length / seq).Select(b => flat.AsSpan(b * seq, seq).ToArray()).ToArray();
}
