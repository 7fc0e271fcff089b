// `furnace serve` with the continuously batched engine (ChatEngines.Open with MaxBatch > 1) on the tiny LLaVA:
// concurrent API requests with different images and prompts each get exactly the greedy answer LlavaModel.Generate
// gives alone, and the server's batch-size histogram sees steps of more than one sequence.
using System.Net;
using System.Text.Json;
using Furnace.Formats.Images;
using Furnace.Generation;
using Furnace.Serving;

namespace Furnace.Server.Tests;

[Collection(TinyLlavaCollection.Name)]
public sealed class BatchedServingTests(TinyLlavaFixture f)
{
    [Fact]
    public async Task ChatCompletions_ConcurrentRequestsOnBatchedEngine_EachEqualsLlavaGenerate()
    {
        using IChatEngine engine = ChatEngines.Open(f.ModelDir, new ChatEngineOptions { Threads = 1, MaxBatch = 4, MaxQueue = 16 });
        Assert.IsType<BatchedChatEngine>(engine);
        await using TestServer server = await TestServer.StartAsync(engine, TinyLlavaFixture.Options);

        const int n = 6;
        var pngs = Enumerable.Range(0, n).Select(i => TestImages.Png(24 + 6 * i, 30, seed: 50 + i)).ToArray();
        string Question(int i) => $"what is in picture {i}?";
        var expected = new GenerationResult[n];
        using (var ctx = new Furnace.Tensors.KernelContext(1))
        {
            for (int i = 0; i < n; i++)
            {
                RgbImage image = ImageDecoder.Decode(pngs[i], "test.png");
                expected[i] = f.Oracle.Generate("<image>\n" + Question(i), [image], new GenerationOptions { MaxTokens = 10 + i, Sampling = SamplingOptions.Greedy }, ctx);
            }
        }

        async Task<string> Ask(int i)
        {
            string json = $$$"""
                {"max_tokens":{{{10 + i}}},"temperature":0,
                 "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"{{{TestImages.DataUrl(pngs[i])}}}"}},{"type":"text","text":"{{{Question(i)}}}"}]}]}
                """;
            using HttpResponseMessage r = await server.PostJsonAsync(json);
            string body = await r.Content.ReadAsStringAsync();
            Assert.True(r.StatusCode == HttpStatusCode.OK, body);
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        }

        string[] got = await Task.WhenAll(Enumerable.Range(0, n).Select(Ask));
        for (int i = 0; i < n; i++) Assert.Equal(expected[i].Text, got[i]);

        string metrics = await server.Http.GetStringAsync("/metrics");
        Assert.Contains("furnace_batch_size_count", metrics);
    }
}
