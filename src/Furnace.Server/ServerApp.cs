// Builds the `furnace serve` web application around an IChatEngine: Kestrel bound to loopback by default, the
// OpenAI-compatible routes, /health, /metrics, the web page at /, API-key checking, optional CORS, and one place
// that turns every error into an OpenAI-style error object (bad input is never a 500).
using System.Diagnostics;
using System.Net;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Furnace.Models.Vlm;
using Furnace.Serving;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Furnace.Server;

public static class ServerApp
{
    /// <summary>nginx's status for "client closed the request": what /metrics records for an abandoned request.</summary>
    public const int ClientClosedRequest = 499;

    public static WebApplication Build(IChatEngine engine, ServerOptions options, LogLevel logLevel = LogLevel.Warning)
    {
        ArgumentNullException.ThrowIfNull(engine);
        options.Validated();
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.SetMinimumLevel(logLevel);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = options.ShutdownTimeout);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.AddServerHeader = false;
            k.Limits.MaxRequestBodySize = options.MaxBodyBytes;
            string host = options.Host.Trim('[', ']');
            if (host == "localhost") k.ListenLocalhost(options.Port);
            else if (host is "*" or "0.0.0.0") k.ListenAnyIP(options.Port);
            else if (IPAddress.TryParse(host, out IPAddress? ip)) k.Listen(ip, options.Port);
            else throw new FurnaceException($"--host '{options.Host}' must be an IP address, localhost or 0.0.0.0");
        });
        if (options.CorsOrigins.Count > 0) builder.Services.AddCors();

        WebApplication app = builder.Build();
        var metrics = new ServerMetrics(engine);
        var fetcher = new ImageFetcher(options);
        app.Lifetime.ApplicationStopped.Register(fetcher.Dispose);
        var parser = new ChatCompletionParser(options, fetcher, engine.ModelId, engine.AcceptsImages);
        var chat = new ChatCompletionsEndpoint(engine, options, parser, metrics, app.Lifetime);
        byte[]? keyHash = options.ApiKey == null ? null : SHA256.HashData(Encoding.UTF8.GetBytes(options.ApiKey));
        long created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        ILogger log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Furnace.Server");

        // outermost: metrics for every request, and errors as OpenAI error objects
        app.Use(async (http, next) =>
        {
            long start = Stopwatch.GetTimestamp();
            try
            {
                await next(http).ConfigureAwait(false);
            }
            catch (ApiException e)
            {
                await WriteErrorAsync(http, e).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
            {
                http.Response.StatusCode = ClientClosedRequest;
            }
            catch (Exception e) when (!http.Response.HasStarted)
            {
                log.LogError(e, "unhandled error on {Path}", http.Request.Path.Value);
                await WriteErrorAsync(http, new ApiException(500, "internal server error", "server_error", code: "internal_error")).ConfigureAwait(false);
            }
            finally
            {
                metrics.Request(RouteLabel(http.Request.Path), http.Request.Method, http.Response.StatusCode, Stopwatch.GetElapsedTime(start));
            }
        });
        if (options.CorsOrigins.Count > 0)
            app.UseCors(p => p.WithOrigins([.. options.CorsOrigins]).WithMethods("GET", "POST").WithHeaders("Authorization", "Content-Type"));
        app.Use(async (http, next) =>
        {
            if (keyHash != null && http.Request.Path.StartsWithSegments("/v1") && !HttpMethods.IsOptions(http.Request.Method))
            {
                string? header = http.Request.Headers.Authorization;
                string? given = header != null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header[7..].Trim() : null;
                // hashes of equal length, compared in constant time: neither the key nor its length leaks through timing
                byte[] givenHash = SHA256.HashData(Encoding.UTF8.GetBytes(given ?? ""));
                if (given == null || !CryptographicOperations.FixedTimeEquals(givenHash, keyHash))
                {
                    http.Response.Headers.WWWAuthenticate = "Bearer";
                    throw new ApiException(401, given == null
                        ? "missing API key: send the header 'Authorization: Bearer KEY'"
                        : "incorrect API key", code: "invalid_api_key");
                }
            }
            await next(http).ConfigureAwait(false);
        });

        app.MapPost("/v1/chat/completions", chat.HandleAsync);
        app.MapGet("/v1/models", () => Json(ApiJson.Models(engine.ModelId, created)));
        app.MapGet("/v1/models/{id}", (string id) => id == engine.ModelId
            ? Json(ApiJson.Model(engine.ModelId, created))
            : throw new ApiException(404, $"the model '{id}' does not exist", param: "model", code: "model_not_found"));
        app.MapGet("/health", async (HttpContext http) =>
        {
            bool stopping = app.Lifetime.ApplicationStopping.IsCancellationRequested;
            http.Response.StatusCode = stopping ? 503 : 200;
            http.Response.ContentType = "application/json";
            await http.Response.Body.WriteAsync(ApiJson.Health(stopping ? "shutting_down" : "ok", engine.ModelId, engine.QueueDepth)).ConfigureAwait(false);
        });
        app.MapGet("/metrics", async (HttpContext http) =>
        {
            http.Response.ContentType = "text/plain; version=0.0.4; charset=utf-8";
            await metrics.WriteAsync(http.Response.Body, http.RequestAborted).ConfigureAwait(false);
        });
        MapPage(app, engine);
        app.MapFallback((HttpContext http) =>
        {
            if (!HttpMethods.IsGet(http.Request.Method) && !HttpMethods.IsPost(http.Request.Method) && !HttpMethods.IsHead(http.Request.Method))
                throw new ApiException(405, $"method {http.Request.Method} is not allowed here", code: "method_not_allowed");
            throw new ApiException(404, $"no route {http.Request.Method} {http.Request.Path}", code: "not_found");
        });
        return app;
    }

    /// <summary>The http://host:port the server listens on (after StartAsync; port 0 resolved).</summary>
    public static Uri Address(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return new Uri(addresses.First());
    }

    private static IResult Json(byte[] json) => Results.Bytes(json, "application/json");

    private static async Task WriteErrorAsync(HttpContext http, ApiException e)
    {
        if (http.Response.HasStarted) return;
        http.Response.StatusCode = e.Status;
        http.Response.ContentType = "application/json";
        await http.Response.Body.WriteAsync(ApiJson.Error(e.Message, e.Type, e.Param, e.Code)).ConfigureAwait(false);
    }

    private static string RouteLabel(PathString path) => path.Value switch
    {
        "/v1/chat/completions" or "/v1/models" or "/health" or "/metrics" or "/" => path.Value,
        "/app.js" or "/style.css" => "/",
        string p when p.StartsWith("/v1/models/", StringComparison.Ordinal) => "/v1/models/{id}",
        _ => "other",
    };

    // the page and its script/style, embedded in the assembly; the caption instructions come from Captioner
    private static void MapPage(WebApplication app, IChatEngine engine)
    {
        var assembly = typeof(ServerApp).Assembly;
        string appJs = Resource(assembly, "wwwroot/app.js")
            .Replace("\"__CAPTION_EN__\"", JsonSerializer.Serialize(CaptionInstruction.English), StringComparison.Ordinal)
            .Replace("\"__CAPTION_ZH__\"", JsonSerializer.Serialize(CaptionInstruction.Chinese), StringComparison.Ordinal);
        string index = Resource(assembly, "wwwroot/index.html");
        string css = Resource(assembly, "wwwroot/style.css");
        const string Csp = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";
        void Map(string route, string body, string type) => app.MapGet(route, (HttpContext http) =>
        {
            http.Response.Headers.ContentSecurityPolicy = Csp;
            http.Response.Headers.XContentTypeOptions = "nosniff";
            http.Response.Headers.CacheControl = "no-cache";
            return Results.Text(body, type, Encoding.UTF8);
        });
        Map("/", index.Replace("__MODEL__", WebUtility.HtmlEncode(engine.ModelId), StringComparison.Ordinal)
            .Replace("__IMAGES__", engine.AcceptsImages ? "true" : "false", StringComparison.Ordinal), "text/html");
        Map("/app.js", appJs, "text/javascript");
        Map("/style.css", css, "text/css");
    }

    private static string Resource(Assembly assembly, string name)
    {
        using Stream s = assembly.GetManifestResourceStream(name) ?? throw new InvalidOperationException($"resource {name} is missing");
        using var reader = new StreamReader(s, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
