// Training samples from LLaVA conversations: the prompt of a caption sample is exactly the inference prompt
// (LlavaModel.BuildPrompt of RenderChat), only answer tokens (with the end-of-turn marker) carry labels, later turns'
// prompts are masked, and batching right-pads with ignored labels and shifts targets as HF does.
using Furnace.Models.Vlm;
using Furnace.Tensors;
using Furnace.Tests.Models;
using Furnace.Tests.Support;
using Furnace.Training;

namespace Furnace.Tests.Training;

public sealed class TrainingSampleTests
{
    [Fact]
    public void Caption_PromptPrefix_EqualsInferencePrompt()
    {
        using var dir = new TempDir();
        using var m = LlavaModel.Load(LlavaOracleTests.WriteTiny(dir));
        using var ctx = new KernelContext(1);
        var builder = new TrainingSampleBuilder(m);
        TrainingSample s = builder.Caption("a red circle");
        int[] inference = m.BuildPrompt(m.RenderChat("<image>\n" + CaptionInstruction.English), [LlavaOracleTests.RandomImage(32, 32, 1)], ctx).InputIds;
        Assert.Equal(inference, s.InputIds.Take(inference.Length));
        Assert.Equal(inference, builder.CaptionPrompt());
        Assert.All(s.Labels.Take(inference.Length), l => Assert.Equal(TrainingSample.IgnoreIndex, l));
        int[] answer = s.InputIds[inference.Length..];
        Assert.Equal(answer, s.Labels[inference.Length..]);
        Assert.Equal(m.Tokenizer.EosId, answer[^1]);
        Assert.Equal(" a red circle", m.Tokenizer.Decode(answer[..^1]));
        Assert.Equal(1, s.Images);
        Assert.Equal(16, s.InputIds.Count(id => id == m.ImageTokenIndex));
    }

    [Fact]
    public void Conversation_LaterPromptsMasked_AnswersLabelled()
    {
        using var dir = new TempDir();
        using var m = LlavaModel.Load(LlavaOracleTests.WriteTiny(dir));
        TrainingSample s = new TrainingSampleBuilder(m).Build([
            new ConversationTurn("human", "<image>\nWhat is it?"), new ConversationTurn("gpt", "a square"),
            new ConversationTurn("human", "Where?"), new ConversationTurn("gpt", "top"),
        ]);
        // labelled runs: exactly the two answers, each ending in EOS
        var runs = new List<int[]>();
        for (int i = 0; i < s.Labels.Length;)
        {
            if (s.Labels[i] == TrainingSample.IgnoreIndex) { i++; continue; }
            int j = i;
            while (j < s.Labels.Length && s.Labels[j] != TrainingSample.IgnoreIndex) j++;
            runs.Add(s.InputIds[i..j]);
            i = j;
        }
        Assert.Equal(2, runs.Count);
        Assert.Equal(" a square", m.Tokenizer.Decode(runs[0][..^1]));
        Assert.Equal(" top", m.Tokenizer.Decode(runs[1][..^1]));
        Assert.Contains("USER: Where? ASSISTANT:", m.Tokenizer.Decode(s.InputIds.Where(id => id != m.ImageTokenIndex).ToArray()));
        Assert.Equal(1, s.Images);
    }

    [Fact]
    public void BuildFromChatMessages_EqualsBuildFromTurns()
    {
        using var dir = new TempDir();
        using var m = LlavaModel.Load(LlavaOracleTests.WriteTiny(dir));
        var builder = new TrainingSampleBuilder(m);
        TrainingSample a = builder.Build([new ConversationTurn("human", "<image>\nHi"), new ConversationTurn("gpt", "hello")]);
        TrainingSample b = builder.Build([new Furnace.Formats.ChatTemplates.ChatMessage("user", "<image>\nHi"), new Furnace.Formats.ChatTemplates.ChatMessage("assistant", "hello")]);
        Assert.Equal(a.InputIds, b.InputIds);
        Assert.Equal(a.Labels, b.Labels);
    }

    [Fact]
    public void EncodePixels_EqualsEncodeImages()
    {
        using var dir = new TempDir();
        using var t = LlavaTrainable.Load(LlavaOracleTests.WriteTiny(dir), new LlavaTrainingOptions());
        using var ctx = new KernelContext(1);
        var image = LlavaOracleTests.RandomImage(40, 30, 4);
        var clip = (ClipVisionEncoder)t.Model.Vision;
        float[] pixels = clip.Pixels([image]);
        var px = new Furnace.Formats.Images.PixelValues(3, 32, 32, pixels);
        Assert.Equal(t.EncodeImages([image], ctx), t.EncodePixels([px], ctx));
    }

    [Fact]
    public void Build_AnswerFirst_Throws()
    {
        using var dir = new TempDir();
        using var m = LlavaModel.Load(LlavaOracleTests.WriteTiny(dir));
        var e = Assert.Throws<FurnaceException>(() => new TrainingSampleBuilder(m).Build([new ConversationTurn("gpt", "x"), new ConversationTurn("human", "y")]));
        Assert.Contains("expected human then gpt", e.Message);
    }

    [Fact]
    public void Collate_PadsAndShifts()
    {
        var a = new TrainingSample([1, 5, 6, 7], [-100, -100, 6, 7], 0);
        var b = new TrainingSample([1, 8, 9], [-100, 8, 9], 0);
        var batch = TrainingBatch.Collate([a, b], [[], []], padId: 0);
        Assert.Equal(4, batch.Seq);
        Assert.Equal([1, 5, 6, 7, 1, 8, 9, 0], batch.InputIds);
        Assert.Equal([-100, 6, 7, -100, 8, 9, -100, -100], batch.ShiftedTargets());
        Assert.Equal(4, batch.ScoredTokens);
    }
}
