// DeepSeek-VL behind `furnace serve`: ChatEngines treats its directory as a vision-language model, and a chat request
// (image part then text) renders through the "deepseek" conversation to the same prompt as caption/ask build.
using Furnace.Generation;
using Furnace.Models.Vlm;
using Furnace.Serving;
using Furnace.Tensors;
using Furnace.Tests.Support;

namespace Furnace.Tests.Models.DeepSeekVl;

public sealed class DeepSeekVlServingTests
{
    [Fact]
    public void ChatPromptBuilder_ImageThenText_MatchesRenderChat()
    {
        using var dir = new TempDir();
        string model = DeepSeekVlOracleTests.WriteTiny(dir);
        Assert.True(ChatEngines.IsLlavaDirectory(model));
        using var m = LlavaModel.Load(model);
        using var ctx = new KernelContext(1);
        var image = LlavaOracleTests.RandomImage(40, 30, 3);
        var request = new ChatRequest(
            [new ChatTurn("user", [ChatPart.FromImage(image), ChatPart.FromText("Describe this image in one sentence.")])],
            new GenerationOptions { MaxTokens = 2 });
        LlavaPrompt served = ChatPromptBuilder.Build(m, request, ctx);
        LlavaPrompt direct = m.BuildPrompt(m.RenderChat(CaptionInstruction.UserTurn(CaptionInstruction.English)), [image], ctx);
        Assert.Equal(direct.InputIds, served.InputIds);
        Assert.Equal(direct.Embeddings, served.Embeddings);
    }

    [Fact]
    public void ChatPromptBuilder_TypedNativeTag_IsRejected()
    {
        using var dir = new TempDir();
        using var m = LlavaModel.Load(DeepSeekVlOracleTests.WriteTiny(dir));
        using var ctx = new KernelContext(1);
        var request = new ChatRequest(
            [new ChatTurn("user", [ChatPart.FromImage(LlavaOracleTests.RandomImage(40, 30, 3)), ChatPart.FromText("and <image_placeholder> this")])],
            new GenerationOptions { MaxTokens = 2 });
        var e = Assert.Throws<FurnaceException>(() => ChatPromptBuilder.Build(m, request, ctx));
        Assert.Contains("messages[0]: the text must not contain '<image_placeholder>'", e.Message);
    }

    [Fact]
    public void Captioner_PromptWithNativeTag_IsNotPrefixedAgain()
    {
        using var dir = new TempDir();
        using var m = LlavaModel.Load(DeepSeekVlOracleTests.WriteTiny(dir));
        var captioner = new Captioner(m, "<image_placeholder>Describe it.", new GenerationOptions { MaxTokens = 1 });
        Assert.Equal("<image_placeholder>Describe it.", captioner.Instruction);
        Assert.Equal("<image>\nDescribe it.", new Captioner(m, "Describe it.", new GenerationOptions { MaxTokens = 1 }).Instruction);
    }
}
