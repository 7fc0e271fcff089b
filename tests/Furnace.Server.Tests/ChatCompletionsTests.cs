// POST /v1/chat/completions against the tiny LLaVA: greedy answers (plain and streamed) equal LlavaModel.Generate on
// the same prompt, the SSE framing is OpenAI's, and every kind of bad input is a 4xx OpenAI error object naming the
// field — never a 500.
using System.Net;
using System.Text;
using System.Text.Json;
using Furnace.Generation;

namespace Furnace.Server.Tests;

[Collection(TinyLlavaCollection.Name)]
public sealed class ChatCompletionsTests(TinyLlavaFixture f)
{
    private const string Question = "What is this?";

    private string ImageRequest(int maxTokens, bool stream, string extra = "") => $$$"""
        {"model":"tiny-llava","max_tokens":{{{maxTokens}}},"temperature":0,"stream":{{{(stream ? "true" : "false")}}}{{{extra}}},
         "messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"{{{TestImages.DataUrl(f.Png)}}}"}},{"type":"text","text":"{{{Question}}}"}]}]}
        """;

    private GenerationResult Expected(int maxTokens)
    {
        using var ctx = new Furnace.Tensors.KernelContext(1);
        var options = new GenerationOptions { MaxTokens = maxTokens, Sampling = SamplingOptions.Greedy };
        return f.Oracle.Generate("<image>\n" + Question, [f.Image], options, ctx);
    }

    private static async Task<JsonElement> ErrorOf(HttpResponseMessage r)
    {
        Assert.Equal("application/json", r.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        JsonElement e = doc.RootElement.GetProperty("error");
        Assert.Equal(JsonValueKind.String, e.GetProperty("message").ValueKind);
        Assert.Equal(JsonValueKind.String, e.GetProperty("type").ValueKind);
        Assert.True(e.TryGetProperty("param", out _));
        Assert.True(e.TryGetProperty("code", out _));
        return e.Clone();
    }

    private async Task<JsonElement> AssertError(string json, HttpStatusCode status, string? param = null)
    {
        using HttpResponseMessage r = await f.Server.PostJsonAsync(json);
        Assert.Equal(status, r.StatusCode);
        JsonElement e = await ErrorOf(r);
        if (param != null) Assert.Equal(param, e.GetProperty("param").GetString());
        return e;
    }

    [Fact]
    public async Task ChatCompletions_NonStreamGreedy_EqualsLlavaGenerate()
    {
        GenerationResult expected = Expected(12);
        using HttpResponseMessage r = await f.Server.PostJsonAsync(ImageRequest(12, stream: false));
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        JsonElement root = doc.RootElement;
        Assert.Equal("chat.completion", root.GetProperty("object").GetString());
        Assert.StartsWith("chatcmpl-", root.GetProperty("id").GetString());
        Assert.Equal("tiny-llava", root.GetProperty("model").GetString());
        JsonElement choice = root.GetProperty("choices")[0];
        Assert.Equal("assistant", choice.GetProperty("message").GetProperty("role").GetString());
        Assert.Equal(expected.Text, choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal(expected.FinishReason, choice.GetProperty("finish_reason").GetString());
        JsonElement usage = root.GetProperty("usage");
        Assert.Equal(expected.PromptTokens, usage.GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(expected.GeneratedTokens, usage.GetProperty("completion_tokens").GetInt32());
        Assert.Equal(expected.PromptTokens + expected.GeneratedTokens, usage.GetProperty("total_tokens").GetInt32());
    }

    [Fact]
    public async Task ChatCompletions_Stream_ChunksConcatenateToLlavaGenerate()
    {
        GenerationResult expected = Expected(10);
        using HttpResponseMessage r = await f.Server.PostJsonAsync(ImageRequest(10, stream: true, extra: ",\"stream_options\":{\"include_usage\":true}"));
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Equal("text/event-stream", r.Content.Headers.ContentType?.MediaType);
        string body = await r.Content.ReadAsStringAsync();
        string[] events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.All(events, e => Assert.StartsWith("data: ", e));
        Assert.Equal("data: [DONE]", events[^1]);
        JsonElement[] chunks = events[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement.Clone()).ToArray();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.Single(chunks.Select(c => c.GetProperty("id").GetString()).Distinct());
        // role first, content deltas, finish_reason on the last choice chunk, then the usage chunk with no choices
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());
        JsonElement usageChunk = chunks[^1];
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        Assert.Equal(expected.GeneratedTokens, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal(expected.PromptTokens, usageChunk.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        JsonElement last = chunks[^2].GetProperty("choices")[0];
        Assert.Equal(expected.FinishReason, last.GetProperty("finish_reason").GetString());
        var text = new StringBuilder();
        foreach (JsonElement c in chunks[..^2])
        {
            JsonElement choice = c.GetProperty("choices")[0];
            Assert.Equal(JsonValueKind.Null, choice.GetProperty("finish_reason").ValueKind);
            Assert.Equal(JsonValueKind.Null, c.GetProperty("usage").ValueKind);
            if (choice.GetProperty("delta").TryGetProperty("content", out JsonElement content)) text.Append(content.GetString());
        }
        Assert.Equal(expected.Text, text.ToString());
    }

    [Fact]
    public async Task ChatCompletions_StringContentAndStop_AnswersTextOnly()
    {
        using HttpResponseMessage r = await f.Server.PostJsonAsync("""{"messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":5,"temperature":0,"stop":["\u0001"],"seed":7}""");
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        Assert.InRange(doc.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32(), 1, 5);
    }

    [Fact]
    public Task ChatCompletions_MalformedJson_400() => AssertError("{\"messages\": [", HttpStatusCode.BadRequest);

    [Fact]
    public Task ChatCompletions_BodyNotObject_400() => AssertError("[1,2]", HttpStatusCode.BadRequest);

    [Fact]
    public Task ChatCompletions_BadBase64_400() => AssertError(
        """{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,@@not base64@@"}}]}]}""",
        HttpStatusCode.BadRequest, "messages[0].content[0].image_url");

    [Fact]
    public Task ChatCompletions_NotAnImage_400() => AssertError(
        $$$"""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png;base64,{{{Convert.ToBase64String(Encoding.UTF8.GetBytes("plain text, no image"))}}}"}}]}]}""",
        HttpStatusCode.BadRequest, "messages[0].content[0].image_url");

    [Fact]
    public Task ChatCompletions_MaxTokensWrongType_400() => AssertError(
        """{"max_tokens":"ten","messages":[{"role":"user","content":"Hi"}]}""", HttpStatusCode.BadRequest, "max_tokens");

    [Fact]
    public Task ChatCompletions_ContentWrongType_400() => AssertError(
        """{"messages":[{"role":"user","content":42}]}""", HttpStatusCode.BadRequest, "messages[0].content");

    [Fact]
    public Task ChatCompletions_MessagesMissing_400() => AssertError("""{"model":"tiny-llava"}""", HttpStatusCode.BadRequest, "messages");

    [Fact]
    public Task ChatCompletions_UnknownRole_400() => AssertError(
        """{"messages":[{"role":"wizard","content":"Hi"}]}""", HttpStatusCode.BadRequest, "messages[0].role");

    [Fact]
    public Task ChatCompletions_UnknownPartType_400() => AssertError(
        """{"messages":[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]}""", HttpStatusCode.BadRequest, "messages[0].content[0].type");

    [Fact]
    public Task ChatCompletions_TooManyImages_400()
    {
        string part = $$$"""{"type":"image_url","image_url":{"url":"{{{TestImages.DataUrl(f.Png)}}}"}}""";
        return AssertError($$$"""{"messages":[{"role":"user","content":[{{{part}}},{{{part}}},{{{part}}}]}]}""", HttpStatusCode.BadRequest, "messages");
    }

    [Fact]
    public Task ChatCompletions_LiteralImagePlaceholderInText_400() => AssertError(
        """{"messages":[{"role":"user","content":"look: <image>"}]}""", HttpStatusCode.BadRequest);

    [Fact]
    public async Task ChatCompletions_NAboveOne_400()
    {
        JsonElement e = await AssertError("""{"n":2,"messages":[{"role":"user","content":"Hi"}]}""", HttpStatusCode.BadRequest, "n");
        Assert.Contains("n must be 1", e.GetProperty("message").GetString());
    }

    [Fact]
    public Task ChatCompletions_MaxTokensAboveCap_400() => AssertError(
        """{"max_tokens":100000,"messages":[{"role":"user","content":"Hi"}]}""", HttpStatusCode.BadRequest, "max_tokens");

    [Fact]
    public Task ChatCompletions_AssistantLast_400() => AssertError(
        """{"messages":[{"role":"user","content":"Hi"},{"role":"assistant","content":"Hello"}]}""", HttpStatusCode.BadRequest, "messages");

    [Fact]
    public async Task ChatCompletions_PromptLongerThanContext_400()
    {
        // test-tiny has 256 positions; one synthetic-vocabulary token per byte
        JsonElement e = await AssertError($$$"""{"messages":[{"role":"user","content":"{{{new string('x', 400)}}}"}]}""", HttpStatusCode.BadRequest, "messages");
        Assert.Equal("invalid_prompt", e.GetProperty("code").GetString());
        Assert.Contains("context", e.GetProperty("message").GetString());
    }

    [Fact]
    public async Task ChatCompletions_OtherModelName_200NamingServedModel()
    {
        using HttpResponseMessage r = await f.Server.PostJsonAsync("""{"model":"gpt-4o","max_tokens":2,"messages":[{"role":"user","content":"Hi"}]}""");
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, body);
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("tiny-llava", doc.RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public Task ChatCompletions_ModelNotAString_400() => AssertError(
        """{"model":7,"messages":[{"role":"user","content":"Hi"}]}""", HttpStatusCode.BadRequest, "model");

    [Fact]
    public async Task ChatCompletions_BodyTooLarge_413()
    {
        string big = new('a', (1 << 20) + 10);
        JsonElement e = await AssertError($$$"""{"messages":[{"role":"user","content":"{{{big}}}"}]}""", HttpStatusCode.RequestEntityTooLarge);
        Assert.Equal("request_too_large", e.GetProperty("code").GetString());
    }

    [Fact]
    public async Task ChatCompletions_RemoteImageWhenDisabled_400()
    {
        JsonElement e = await AssertError("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://example.com/cat.png"}}]}]}""",
            HttpStatusCode.BadRequest, "messages[0].content[0].image_url");
        Assert.Equal("remote_images_disabled", e.GetProperty("code").GetString());
    }

    [Fact]
    public async Task Models_ListsTheServedModel()
    {
        string body = await f.Server.Http.GetStringAsync("/v1/models");
        using var doc = JsonDocument.Parse(body);
        Assert.Equal("list", doc.RootElement.GetProperty("object").GetString());
        Assert.Equal("tiny-llava", doc.RootElement.GetProperty("data")[0].GetProperty("id").GetString());
        using HttpResponseMessage missing = await f.Server.Http.GetAsync("/v1/models/other");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Health_Serving_Ok()
    {
        using HttpResponseMessage r = await f.Server.Http.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        Assert.Equal("ok", doc.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task UnknownRoute_404ErrorObject()
    {
        using HttpResponseMessage r = await f.Server.Http.GetAsync("/v2/nothing");
        Assert.Equal(HttpStatusCode.NotFound, r.StatusCode);
        await ErrorOf(r);
    }

    [Fact]
    public async Task Page_Root_ServesHtmlAndScriptWithCaptionInstructions()
    {
        using HttpResponseMessage r = await f.Server.Http.GetAsync("/");
        Assert.Equal("text/html", r.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<script src=\"/app.js\">", await r.Content.ReadAsStringAsync());
        Assert.Contains("default-src 'self'", r.Headers.GetValues("Content-Security-Policy").Single());
        string js = await f.Server.Http.GetStringAsync("/app.js");
        Assert.Contains(JsonSerializer.Serialize(Furnace.Models.Vlm.CaptionInstruction.Chinese), js);
        Assert.DoesNotContain("__CAPTION_", js);
    }

    [Fact]
    public async Task Metrics_AfterRequests_ContainsSeries()
    {
        using (HttpResponseMessage r = await f.Server.PostJsonAsync("""{"messages":[{"role":"user","content":"Hi"}],"max_tokens":3,"temperature":0}"""))
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using (HttpResponseMessage bad = await f.Server.PostJsonAsync("{"))
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        string text = await f.Server.Http.GetStringAsync("/metrics");
        Assert.Contains("furnace_http_requests_total{route=\"/v1/chat/completions\",method=\"POST\",status=\"200\"}", text);
        Assert.Contains("furnace_http_requests_total{route=\"/v1/chat/completions\",method=\"POST\",status=\"400\"}", text);
        Assert.Contains("furnace_http_request_duration_seconds_bucket{route=\"/v1/chat/completions\"", text);
        Assert.Contains("furnace_time_to_first_token_seconds_count", text);
        Assert.Contains("furnace_generated_tokens_total", text);
        Assert.Contains("furnace_decode_tokens_per_second_count", text);
        Assert.Contains("furnace_queue_depth 0", text);
        Assert.Contains("furnace_batch_size_bucket{le=\"1\"}", text);
    }
}
