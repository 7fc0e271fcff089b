// Export of a trained LLaVA: the directory written in the HF LLaVA layout loads with LlavaModel.Load and its
// inference logits (every position of a prompt with an image) equal the training graph's logits within 1e-4 —
// for a trained projector on a frozen decoder, a LoRA adapter merged into the decoder, and a fully trained decoder.
// The adapter also round-trips through PEFT's layout.
using Furnace.Models.Llama;
using Furnace.Models.Lora;
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tensors.Autograd;
using Furnace.Tests.Models;
using Furnace.Tests.Support;
using Furnace.Training;

namespace Furnace.Tests.Training;

public sealed class LlavaExportTests
{
    [Theory]
    [InlineData(LlamaTraining.Frozen, false)]
    [InlineData(LlamaTraining.Lora, false)]
    [InlineData(LlamaTraining.Full, true)]
    public void Export_InferenceLogits_EqualTapeLogits(LlamaTraining mode, bool qwen)
    {
        using var dir = new TempDir();
        string model = VlmTrainStepOracleTests.WriteTiny(dir, qwen);
        var options = new LlavaTrainingOptions
        {
            Language = mode,
            Lora = new LoraConfig { Rank = 4, Alpha = 16, Targets = LoraTargets.AllLinear },
        };
        using var m = LlavaTrainable.Load(model, options);
        // "train": move every trainable tensor (B of LoRA included, so the merge is not a no-op)
        foreach (Tensor p in m.Parameters)
        {
            for (int i = 0; i < p.Length; i++) p.Data[i] += 0.02f * MathF.Sin(i * 0.7f + p.Length);
        }
        string exported = dir.File("exported");
        m.Export(exported);

        using var ctx = new KernelContext(2);
        var image = LlavaOracleTests.RandomImage(36, 32, 9);
        using var loaded = LlavaModel.Load(exported);
        LlavaPrompt prompt = loaded.BuildPrompt(loaded.RenderChat("<image>\nDescribe."), [image], ctx);
        var state = loaded.LlamaDecoder.NewState(prompt.Positions + 1, prompt.Positions);
        loaded.Decoder.ForwardEmbeddings(prompt.Embeddings, state, ctx, allLogits: true);

        var tape = new Tape(ctx) { Enabled = false };
        var batch = new TrainingBatch(1, prompt.Positions, prompt.InputIds, new int[prompt.Positions], m.EncodeImages([image], ctx), 1);
        Tensor logits = m.Logits(tape, batch);
        Assert.Equal(prompt.Positions * loaded.Decoder.VocabSize, logits.Length);
        double worst = 0;
        for (int i = 0; i < logits.Length; i++) worst = Math.Max(worst, Math.Abs(logits.Data[i] - state.Logits[i]));
        Assert.True(worst < 1e-4, $"exported model's logits differ from the training graph's by {worst:E2}");

        if (mode == LlamaTraining.Frozen)
        {
            // the decoder tensors were copied, not rewritten
            using var a = Furnace.Formats.SafeTensors.SafeTensorsCheckpoint.Open(model);
            using var b = Furnace.Formats.SafeTensors.SafeTensorsCheckpoint.Open(exported);
            var e1 = a.Find("language_model.model.layers.0.mlp.up_proj.weight")!;
            var e2 = b.Find("language_model.model.layers.0.mlp.up_proj.weight")!;
            Assert.Equal(e1.File.Span(e1.Offset, 4096).ToArray(), e2.File.Span(e2.Offset, 4096).ToArray());
        }
    }

    [Fact]
    public void SaveAdapter_RoundTripsThroughPeftLayout()
    {
        using var dir = new TempDir();
        string model = LlavaOracleTests.WriteTiny(dir);
        using var m = LlavaTrainable.Load(model, new LlavaTrainingOptions
        {
            Language = LlamaTraining.Lora,
            Lora = new LoraConfig { Rank = 2, Alpha = 4, Targets = LoraTargets.List("q_proj", "v_proj") },
            TrainProjector = false,
        });
        Assert.Equal(2 * 2 * 2, m.Parameters.Count); // 2 layers x (q, v) x (A, B); projector frozen
        Assert.All(m.Parameters, p => Assert.Contains(".lora_", p.Name!));
        m.Language.Adapters[0].B.Data[3] = 0.5f;
        m.SaveAdapter(dir.File("adapter"));
        var back = LoraAdapter.Load(dir.File("adapter"));
        var first = m.Language.Adapters[0];
        Assert.Equal(first.B.Data, back.Modules[first.ModulePath].B);
        Assert.Equal(first.A.Data, back.Modules[first.ModulePath].A);
    }
}
