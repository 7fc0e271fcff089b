// Rendering whole conversations for the model: LLaVA-1.5's multi-turn format when the model has no recognised
// template, image placeholders in part order, and the errors for misplaced images and literal placeholders.
using Furnace.Formats.ChatTemplates;
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Serving;

namespace Furnace.Server.Tests;

public sealed class ChatPromptBuilderTests
{
    private static readonly RgbImage Image = RgbImage.Filled(4, 4, 1, 2, 3);

    private static ChatTurn Turn(string role, params ChatPart[] parts) => new(role, parts);

    [Fact]
    public void Render_MultiTurnWithoutTemplate_Llava15Conversation()
    {
        var (messages, images) = ChatPromptBuilder.Flatten(
        [
            Turn("system", ChatPart.FromText("Be brief.")),
            Turn("user", ChatPart.FromImage(Image), ChatPart.FromText("What is it?")),
            Turn("assistant", ChatPart.FromText("A square.")),
            Turn("user", ChatPart.FromText("Colour?"), ChatPart.FromImage(Image), ChatPart.FromImage(Image)),
        ], acceptsImages: true);
        Assert.Equal(3, images.Count);
        string rendered = ChatPromptBuilder.Render(null, messages, "</s>");
        Assert.Equal("Be brief. USER: <image>\nWhat is it? ASSISTANT: A square.</s>USER: Colour?<image><image> ASSISTANT:", rendered);
    }

    [Fact]
    public void Render_WithTemplate_UsesIt()
    {
        var (messages, _) = ChatPromptBuilder.Flatten([Turn("user", ChatPart.FromText("Hi"))], acceptsImages: false);
        Assert.Equal(new ChatMlTemplate(null).Render([new ChatMessage("user", "Hi")], true), ChatPromptBuilder.Render(new ChatMlTemplate(null), messages, null));
    }

    [Fact]
    public void Flatten_ImageInAssistantTurn_Throws() =>
        Assert.Throws<FurnaceException>(() => ChatPromptBuilder.Flatten([Turn("user", ChatPart.FromText("x")), Turn("assistant", ChatPart.FromImage(Image)), Turn("user", ChatPart.FromText("y"))], true));

    [Fact]
    public void Flatten_ImageForTextOnlyModel_Throws() =>
        Assert.Contains("text-only", Assert.Throws<FurnaceException>(() => ChatPromptBuilder.Flatten([Turn("user", ChatPart.FromImage(Image))], false)).Message);

    [Fact]
    public void Flatten_LiteralPlaceholder_Throws() =>
        Assert.Throws<FurnaceException>(() => ChatPromptBuilder.Flatten([Turn("user", ChatPart.FromText("<image> hi"))], true));

    [Fact]
    public void Flatten_LiteralPlaceholderForTextOnlyModel_IsJustText() =>
        Assert.Equal("<image> hi", ChatPromptBuilder.Flatten([Turn("user", ChatPart.FromText("<image> hi"))], false).Messages[0].Content);

    [Fact]
    public void Flatten_AssistantLast_Throws() =>
        Assert.Throws<FurnaceException>(() => ChatPromptBuilder.Flatten([Turn("user", ChatPart.FromText("x")), Turn("assistant", ChatPart.FromText("y"))], true));

    [Fact]
    public void Flatten_UnknownRole_Throws() =>
        Assert.Throws<FurnaceException>(() => ChatPromptBuilder.Flatten([Turn("tool", ChatPart.FromText("x"))], true));

    [Fact]
    public void ChatRequest_OptionsCarryThrough()
    {
        var request = new ChatRequest([Turn("user", ChatPart.FromText("x"))], new GenerationOptions { MaxTokens = 3 });
        Assert.Equal(3, request.Options.MaxTokens);
    }
}
