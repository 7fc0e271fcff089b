// The server around a fake engine: 429 with Retry-After when the queue is full, cancellation when the client goes
// away, the per-request timeout, graceful shutdown finishing the request in flight, and the API key.
using System.Net;
using System.Text.Json;

namespace Furnace.Server.Tests;

public sealed class ServerBehaviourTests
{
    private const string Hi = """{"messages":[{"role":"user","content":"Hi"}]}""";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private static ServerOptions Options => new() { Port = 0 };

    [Fact]
    public async Task ChatCompletions_QueueFull_429WithRetryAfter()
    {
        var engine = new FakeEngine(maxQueue: 0);
        await using TestServer server = await TestServer.StartAsync(engine, Options);
        Task<HttpResponseMessage> first = server.PostJsonAsync(Hi);
        await engine.Started.Task.WaitAsync(Wait);
        using HttpResponseMessage second = await server.PostJsonAsync(Hi);
        Assert.Equal((HttpStatusCode)429, second.StatusCode);
        Assert.Equal("1", second.Headers.GetValues("Retry-After").Single());
        using var doc = JsonDocument.Parse(await second.Content.ReadAsStringAsync());
        Assert.Equal("queue_full", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        engine.Gate.SetResult();
        using HttpResponseMessage ok = await first;
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.Contains("Hello, world", await ok.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task ChatCompletions_ClientDisconnects_CancelsGeneration()
    {
        var engine = new FakeEngine(maxQueue: 4);
        await using TestServer server = await TestServer.StartAsync(engine, Options);
        using var leave = new CancellationTokenSource();
        Task<HttpResponseMessage> request = server.PostJsonAsync("""{"stream":true,"messages":[{"role":"user","content":"Hi"}]}""", cancellation: leave.Token);
        await engine.Started.Task.WaitAsync(Wait);
        leave.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => request);
        await engine.Cancelled.Task.WaitAsync(Wait); // the engine's token fired: its slot is free
    }

    [Fact]
    public async Task ChatCompletions_Timeout_504()
    {
        var engine = new FakeEngine(maxQueue: 4);
        await using TestServer server = await TestServer.StartAsync(engine, Options with { Timeout = TimeSpan.FromMilliseconds(200) });
        using HttpResponseMessage r = await server.PostJsonAsync(Hi);
        Assert.Equal(HttpStatusCode.GatewayTimeout, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        Assert.Equal("timeout", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        Assert.True(engine.Cancelled.Task.IsCompleted);
    }

    [Fact]
    public async Task Shutdown_InFlightRequest_Completes()
    {
        var engine = new FakeEngine(maxQueue: 4);
        TestServer server = await TestServer.StartAsync(engine, Options);
        Task<HttpResponseMessage> inFlight = server.PostJsonAsync(Hi);
        await engine.Started.Task.WaitAsync(Wait);
        Task stopping = server.App.StopAsync();
        Assert.True(server.App.Lifetime.ApplicationStopping.IsCancellationRequested);
        engine.Gate.SetResult();
        using HttpResponseMessage r = await inFlight;
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        Assert.Contains("Hello, world", await r.Content.ReadAsStringAsync());
        await stopping.WaitAsync(Wait);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task ChatCompletions_EngineClosed_503()
    {
        var engine = new FakeEngine(maxQueue: 4) { Closed = true };
        await using TestServer server = await TestServer.StartAsync(engine, Options);
        using HttpResponseMessage r = await server.PostJsonAsync(Hi);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        Assert.Equal("shutting_down", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
    }

    [Fact]
    public async Task ApiKey_MissingWrongRight_401_401_200()
    {
        var engine = new FakeEngine(maxQueue: 4);
        engine.Gate.SetResult();
        await using TestServer server = await TestServer.StartAsync(engine, Options with { ApiKey = "s3cret" });
        using (HttpResponseMessage missing = await server.PostJsonAsync(Hi))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
            Assert.Equal("Bearer", missing.Headers.WwwAuthenticate.Single().Scheme);
            using var doc = JsonDocument.Parse(await missing.Content.ReadAsStringAsync());
            Assert.Equal("invalid_api_key", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        }
        using (HttpResponseMessage wrong = await server.PostJsonAsync(Hi, key: "s3cre"))
            Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        using (HttpResponseMessage models = await server.Http.GetAsync("/v1/models"))
            Assert.Equal(HttpStatusCode.Unauthorized, models.StatusCode);
        using (HttpResponseMessage right = await server.PostJsonAsync(Hi, key: "s3cret"))
            Assert.Equal(HttpStatusCode.OK, right.StatusCode);
        using (HttpResponseMessage health = await server.Http.GetAsync("/health"))
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Cors_OffByDefault_OnForListedOrigin()
    {
        var engine = new FakeEngine(maxQueue: 4);
        await using TestServer off = await TestServer.StartAsync(engine, Options);
        await using TestServer on = await TestServer.StartAsync(engine, Options with { CorsOrigins = ["https://app.example"] });
        foreach (var (server, expected) in new[] { (off, false), (on, true) })
        {
            using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/chat/completions");
            preflight.Headers.Add("Origin", "https://app.example");
            preflight.Headers.Add("Access-Control-Request-Method", "POST");
            using HttpResponseMessage r = await server.Http.SendAsync(preflight);
            Assert.Equal(expected, r.Headers.Contains("Access-Control-Allow-Origin"));
        }
    }

    [Fact]
    public async Task RemoteImages_LoopbackHostOnAllowList_400Blocked()
    {
        var engine = new FakeEngine(maxQueue: 4);
        engine.Gate.SetResult();
        await using TestServer server = await TestServer.StartAsync(engine, Options with { AllowRemoteImageHosts = ["127.0.0.1", "localhost"] });
        // the server itself is a reachable loopback HTTP endpoint: the guard must refuse it before connecting
        foreach (string url in new[] { $"http://127.0.0.1:{server.Address.Port}/health", $"http://localhost:{server.Address.Port}/health" })
        {
            using HttpResponseMessage r = await server.PostJsonAsync($$$"""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"{{{url}}}"}}]}]}""");
            Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
            using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
            Assert.Equal("image_url_blocked", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
        }
    }

    [Fact]
    public async Task RemoteImages_HostNotOnAllowList_400()
    {
        var engine = new FakeEngine(maxQueue: 4);
        await using TestServer server = await TestServer.StartAsync(engine, Options with { AllowRemoteImageHosts = ["images.example"] });
        using HttpResponseMessage r = await server.PostJsonAsync("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://169.254.169.254/latest/meta-data"}}]}]}""");
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        using var doc = JsonDocument.Parse(await r.Content.ReadAsStringAsync());
        Assert.Equal("image_host_not_allowed", doc.RootElement.GetProperty("error").GetProperty("code").GetString());
    }
}
