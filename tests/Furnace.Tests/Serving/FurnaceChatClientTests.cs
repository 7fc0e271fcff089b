// FurnaceChatClient (Microsoft.Extensions.AI IChatClient) on a tiny random LLaVA: images as DataContent reach the
// model as the library's own Generate sees them, ChatOptions map onto GenerationOptions, usage and finish reasons
// come back, and streaming gives the same text as the whole response.
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Models.Vlm;
using Furnace.Serving;
using Furnace.Tensors;
using Furnace.Tests.Support;
using Microsoft.Extensions.AI;

namespace Furnace.Tests.Serving;

public sealed class FurnaceChatClientTests : IClassFixture<BatchedChatEngineFixture>
{
    private readonly BatchedChatEngineFixture _f;

    public FurnaceChatClientTests(BatchedChatEngineFixture f) => _f = f;

    private static ChatMessage ImageQuestion(byte[] bmp, string question) =>
        new(ChatRole.User, [new DataContent(bmp, "image/bmp"), new TextContent(question)]);

    [Fact]
    public async Task GetResponseAsync_ImageAsDataContent_EqualsLlavaModelGenerate()
    {
        byte[] bmp = RandomBmp.Bytes(36, 28, 3);
        GenerationResult want;
        using (var model = LlavaModel.Load(_f.Llava))
        using (var ctx = new KernelContext(2))
        {
            RgbImage image = ImageDecoder.Decode(bmp, "test.bmp");
            want = model.Generate(LlavaModel.ImagePlaceholder + "\nwhat is shown?", [image],
                new GenerationOptions { Sampling = SamplingOptions.Greedy, MaxTokens = 12 }, ctx);
        }

        using var client = FurnaceChatClient.Open(_f.Llava, new ChatEngineOptions { Threads = 2 });
        ChatResponse r = await client.GetResponseAsync([ImageQuestion(bmp, "what is shown?")], new ChatOptions { Temperature = 0, MaxOutputTokens = 12 });
        Assert.Equal(want.Text, r.Text);
        Assert.Equal(ChatRole.Assistant, r.Messages.Single().Role);
        Assert.Equal(want.FinishReason == "length" ? ChatFinishReason.Length : ChatFinishReason.Stop, r.FinishReason);
        Assert.NotNull(r.Usage);
        Assert.Equal(want.PromptTokens, r.Usage.InputTokenCount);
        Assert.Equal(want.GeneratedTokens, r.Usage.OutputTokenCount);
        Assert.Equal(want.PromptTokens + want.GeneratedTokens, r.Usage.TotalTokenCount);
        Assert.Equal("llava", r.ModelId);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_Updates_ConcatenateToTheWholeResponse()
    {
        byte[] bmp = RandomBmp.Bytes(30, 30, 4);
        using var client = FurnaceChatClient.Open(_f.Llava, new ChatEngineOptions { MaxBatch = 2, Threads = 2 });
        var options = new ChatOptions { Temperature = 0, MaxOutputTokens = 20, Instructions = "answer briefly" };
        ChatResponse whole = await client.GetResponseAsync([ImageQuestion(bmp, "caption")], options);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var u in client.GetStreamingResponseAsync([ImageQuestion(bmp, "caption")], options)) updates.Add(u);
        Assert.Equal(whole.Text, string.Concat(updates.Select(u => u.Text)));
        ChatResponseUpdate last = updates[^1];
        Assert.Equal(whole.FinishReason, last.FinishReason);
        UsageDetails usage = last.Contents.OfType<UsageContent>().Single().Details;
        Assert.Equal(whole.Usage!.OutputTokenCount, usage.OutputTokenCount);
        Assert.Single(updates.Select(u => u.ResponseId).Distinct());

        // the aggregation helper of the abstractions rebuilds the same response
        ChatResponse rebuilt = updates.ToChatResponse();
        Assert.Equal(whole.Text, rebuilt.Text);
        Assert.Equal(whole.Usage.InputTokenCount, rebuilt.Usage!.InputTokenCount);
    }

    [Fact]
    public void Options_ChatOptions_MapOntoGenerationOptions()
    {
        var engine = new StubEngine();
        using var client = new FurnaceChatClient(engine, defaults: new GenerationOptions { MaxTokens = 99 });
        GenerationOptions g = client.Options(new ChatOptions { MaxOutputTokens = 7, Temperature = 0.25f, TopP = 0.5f, TopK = 3, Seed = 42, StopSequences = ["END", "\n\n"] });
        Assert.Equal(7, g.MaxTokens);
        Assert.Equal(0.25f, g.Sampling.Temperature);
        Assert.Equal(0.5f, g.Sampling.TopP);
        Assert.Equal(3, g.Sampling.TopK);
        Assert.Equal(42UL, g.Sampling.Seed);
        Assert.Equal(["END", "\n\n"], g.Stop);
        Assert.Equal(99, client.Options(new ChatOptions { Temperature = 0 }).MaxTokens);
        Assert.Throws<FurnaceException>(() => client.Options(new ChatOptions { TopP = 2 }));
    }

    [Fact]
    public void ToRequest_MessagesAndImages_BecomeTurnsInOrder()
    {
        using var client = new FurnaceChatClient(new StubEngine());
        ChatRequest r = client.ToRequest(
            [new ChatMessage(ChatRole.System, "sys"), ImageQuestion(RandomBmp.Bytes(8, 6, 1), "q1"), new ChatMessage(ChatRole.Assistant, "a1"), new ChatMessage(ChatRole.User, "q2")],
            new ChatOptions { Instructions = "be kind" });
        Assert.Equal(["system", "system", "user", "assistant", "user"], r.Messages.Select(m => m.Role));
        Assert.Equal("be kind", r.Messages[0].Parts.Single().Text);
        RgbImage image = r.Messages[2].Parts[0].Image!;
        Assert.Equal((8, 6), (image.Width, image.Height));
        Assert.Equal("q1", r.Messages[2].Parts[1].Text);
    }

    [Fact]
    public void ToRequest_UnsupportedContent_ThrowsClearError()
    {
        using var client = new FurnaceChatClient(new StubEngine());
        var pdf = new ChatMessage(ChatRole.User, [new DataContent(new byte[] { 1, 2, 3 }, "application/pdf")]);
        var ex = Assert.Throws<FurnaceException>(() => client.ToRequest([pdf], null));
        Assert.Contains("'application/pdf' data content is not supported", ex.Message);
        var tool = new ChatMessage(ChatRole.Tool, "result");
        Assert.Contains("role 'tool'", Assert.Throws<FurnaceException>(() => client.ToRequest([tool], null)).Message);
        var broken = new ChatMessage(ChatRole.User, [new DataContent(new byte[] { 1, 2, 3 }, "image/png")]);
        Assert.Contains("not a supported image", Assert.ThrowsAny<FurnaceException>(() => client.ToRequest([broken], null)).Message);
    }

    [Fact]
    public void GetService_Metadata_NamesProviderAndModel()
    {
        using var client = new FurnaceChatClient(new StubEngine());
        var meta = (ChatClientMetadata)client.GetService(typeof(ChatClientMetadata))!;
        Assert.Equal("furnace", meta.ProviderName);
        Assert.Equal("stub", meta.DefaultModelId);
        Assert.Same(client, client.GetService(typeof(IChatClient)));
        Assert.Null(client.GetService(typeof(string)));
    }

    private sealed class StubEngine : IChatEngine
    {
        public string ModelId => "stub";

        public bool AcceptsImages => true;

        public int QueueDepth => 0;

        public async IAsyncEnumerable<ChatUpdate> StreamAsync(ChatRequest request, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellation = default)
        {
            await Task.Yield();
            yield return new ChatUpdate("ok", new GenerationResult("ok", 1, 1, "stop", TimeSpan.Zero, TimeSpan.Zero));
        }

        public void Dispose()
        {
        }
    }
}
