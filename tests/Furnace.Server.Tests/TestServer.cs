// A `furnace serve` application on 127.0.0.1 with a free port, and an HttpClient pointed at it.
using System.Net.Http.Headers;
using System.Text;
using Furnace.Serving;
using Microsoft.AspNetCore.Builder;

namespace Furnace.Server.Tests;

public sealed class TestServer : IAsyncDisposable
{
    private TestServer(WebApplication app, Uri address)
    {
        App = app;
        Address = address;
        Http = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromMinutes(2) };
    }

    public WebApplication App { get; }

    public Uri Address { get; }

    public HttpClient Http { get; }

    public static async Task<TestServer> StartAsync(IChatEngine engine, ServerOptions options)
    {
        WebApplication app = ServerApp.Build(engine, options with { Port = 0, Host = "127.0.0.1" });
        await app.StartAsync();
        return new TestServer(app, ServerApp.Address(app));
    }

    public Task<HttpResponseMessage> PostJsonAsync(string json, string? key = null, CancellationToken cancellation = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (key != null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        return Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
