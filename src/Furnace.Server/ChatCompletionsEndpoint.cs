// POST /v1/chat/completions: body (size-limited) → parsed request → engine stream → one chat.completion, or SSE
// chat.completion.chunk events ("data: {json}\n\n": the role first, then content deltas, finish_reason last, an
// optional usage chunk, "data: [DONE]"). Everything that can go wrong before the first token — queue full, a
// prompt the model cannot take, timeout — is an HTTP status; after it, an error event ends the stream. The client
// going away (RequestAborted) or the per-request timeout cancels the generation and frees its slot.
using System.Diagnostics;
using Furnace.Generation;
using Furnace.Serving;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;

namespace Furnace.Server;

internal sealed class ChatCompletionsEndpoint(IChatEngine engine, ServerOptions options, ChatCompletionParser parser, ServerMetrics metrics, IHostApplicationLifetime lifetime)
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public async Task HandleAsync(HttpContext http)
    {
        long arrived = Stopwatch.GetTimestamp();
        if (lifetime.ApplicationStopping.IsCancellationRequested)
            throw new ApiException(503, "the server is shutting down; retry on another instance", "server_error", code: "shutting_down");
        byte[] body = await ReadBodyAsync(http).ConfigureAwait(false);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted);
        timeout.CancelAfter(options.Timeout);
        CancellationToken token = timeout.Token;
        using IDisposable inFlight = metrics.TrackInFlight();
        try
        {
            ChatCompletionRequest parsed = await parser.ParseAsync(body, token).ConfigureAwait(false);
            string id = "chatcmpl-" + Guid.NewGuid().ToString("N");
            long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

            await using IAsyncEnumerator<ChatUpdate> updates = engine.StreamAsync(parsed.Request, token).GetAsyncEnumerator(token);
            bool any;
            try
            {
                // the queue, prompt building and prefill all happen here: their errors are still HTTP statuses
                any = await updates.MoveNextAsync().ConfigureAwait(false);
            }
            catch (ChatQueueFullException e)
            {
                http.Response.Headers.RetryAfter = "1";
                throw new ApiException(429, e.Message, "rate_limit_error", code: "queue_full");
            }
            catch (ObjectDisposedException)
            {
                throw new ApiException(503, "the server is shutting down", "server_error", code: "shutting_down");
            }
            catch (FurnaceException e) when (e is not ChatQueueFullException)
            {
                throw ApiException.BadRequest(e.Message, "messages", "invalid_prompt");
            }
            if (!any) throw new InvalidOperationException("the engine ended a stream without a final update");

            if (parsed.Stream) await StreamAsync(http, updates, parsed, id, created, arrived).ConfigureAwait(false);
            else await CompleteAsync(http, updates, id, created, arrived).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            // the client left: nothing to answer; the engine has been told through the token
            http.Response.StatusCode = ServerApp.ClientClosedRequest;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            if (http.Response.HasStarted) await WriteStreamErrorAsync(http, "the request took longer than the server's timeout", "timeout").ConfigureAwait(false);
            else throw new ApiException(504, $"the request took longer than the server's timeout of {options.Timeout.TotalSeconds:0.#} s", "timeout_error", code: "timeout");
        }
    }

    private async Task CompleteAsync(HttpContext http, IAsyncEnumerator<ChatUpdate> updates, string id, long created, long arrived)
    {
        var text = new System.Text.StringBuilder();
        GenerationResult? final = null;
        bool first = true;
        do
        {
            ChatUpdate u = updates.Current;
            if (first && u.Text.Length > 0)
            {
                metrics.FirstToken(Stopwatch.GetElapsedTime(arrived));
                first = false;
            }
            text.Append(u.Text);
            if (u.Final != null) final = u.Final;
        }
        while (await updates.MoveNextAsync().ConfigureAwait(false));
        if (final == null) throw new InvalidOperationException("the engine ended a stream without a final update");
        if (first) metrics.FirstToken(Stopwatch.GetElapsedTime(arrived)); // an empty answer: its end is its first token
        metrics.Finished(final);
        http.Response.StatusCode = 200;
        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(ApiJson.Completion(id, created, engine.ModelId, text.ToString(), final), http.RequestAborted).ConfigureAwait(false);
    }

    private async Task StreamAsync(HttpContext http, IAsyncEnumerator<ChatUpdate> updates, ChatCompletionRequest parsed, string id, long created, long arrived)
    {
        http.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
        http.Response.StatusCode = 200;
        http.Response.ContentType = "text/event-stream; charset=utf-8";
        http.Response.Headers.CacheControl = "no-cache";
        http.Response.Headers["X-Accel-Buffering"] = "no";
        string model = engine.ModelId;
        bool usageNull = parsed.IncludeUsage;
        await WriteEventAsync(http, ApiJson.Chunk(id, created, model, "assistant", "", null, usageNull)).ConfigureAwait(false);
        GenerationResult? final = null;
        bool first = true;
        try
        {
            do
            {
                ChatUpdate u = updates.Current;
                if (u.Text.Length > 0)
                {
                    if (first)
                    {
                        metrics.FirstToken(Stopwatch.GetElapsedTime(arrived));
                        first = false;
                    }
                    await WriteEventAsync(http, ApiJson.Chunk(id, created, model, null, u.Text, null, usageNull)).ConfigureAwait(false);
                }
                if (u.Final != null) final = u.Final;
            }
            while (await updates.MoveNextAsync().ConfigureAwait(false));
        }
        catch (FurnaceException e)
        {
            await WriteStreamErrorAsync(http, e.Message, "generation_failed").ConfigureAwait(false);
            return;
        }
        if (final == null) throw new InvalidOperationException("the engine ended a stream without a final update");
        if (first) metrics.FirstToken(Stopwatch.GetElapsedTime(arrived));
        metrics.Finished(final);
        await WriteEventAsync(http, ApiJson.Chunk(id, created, model, null, null, final.FinishReason, usageNull)).ConfigureAwait(false);
        if (parsed.IncludeUsage) await WriteEventAsync(http, ApiJson.UsageChunk(id, created, model, final)).ConfigureAwait(false);
        await http.Response.Body.WriteAsync(Done, http.RequestAborted).ConfigureAwait(false);
        await http.Response.Body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    private static async Task WriteEventAsync(HttpContext http, byte[] json)
    {
        Stream body = http.Response.Body;
        await body.WriteAsync(DataPrefix, http.RequestAborted).ConfigureAwait(false);
        await body.WriteAsync(json, http.RequestAborted).ConfigureAwait(false);
        await body.WriteAsync(EventEnd, http.RequestAborted).ConfigureAwait(false);
        await body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
    }

    private static Task WriteStreamErrorAsync(HttpContext http, string message, string code) =>
        WriteEventAsync(http, ApiJson.Error(message, "server_error", null, code));

    private async Task<byte[]> ReadBodyAsync(HttpContext http)
    {
        long max = options.MaxBodyBytes;
        if (http.Request.ContentLength is long declared && declared > max) throw TooLarge(http, max);
        var ms = new MemoryStream();
        var buffer = new byte[16384];
        try
        {
            int n;
            while ((n = await http.Request.Body.ReadAsync(buffer, http.RequestAborted).ConfigureAwait(false)) > 0)
            {
                if (ms.Length + n > max) throw TooLarge(http, max);
                ms.Write(buffer, 0, n);
            }
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw TooLarge(http, max);
        }
        catch (BadHttpRequestException e)
        {
            throw new ApiException(e.StatusCode, $"the request body could not be read ({e.Message})", code: "bad_request_body");
        }
        return ms.ToArray();
    }

    // the rest of the body is never read: the connection cannot carry another request
    private static ApiException TooLarge(HttpContext http, long max)
    {
        http.Response.Headers.Connection = "close";
        return new(413, $"the request body is larger than this server's limit of {max:N0} bytes", code: "request_too_large");
    }
}
