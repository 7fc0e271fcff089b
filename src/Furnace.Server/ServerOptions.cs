// What `furnace serve` listens on and the limits it enforces on every request. Defaults are safe for a loopback
// service: no remote images, no CORS, modest sizes.
namespace Furnace.Server;

public sealed record ServerOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>0 picks a free port (tests).</summary>
    public int Port { get; init; } = 8080;

    /// <summary>When set, /v1/* requires "Authorization: Bearer KEY".</summary>
    public string? ApiKey { get; init; }

    /// <summary>Largest request body in bytes (413 above it).</summary>
    public long MaxBodyBytes { get; init; } = 20 << 20;

    /// <summary>Largest encoded image (data URL payload or download) in bytes.</summary>
    public long MaxImageBytes { get; init; } = 10 << 20;

    /// <summary>Largest image width × height, checked from the header before decoding.</summary>
    public long MaxImagePixels { get; init; } = 40_000_000;

    public int MaxImages { get; init; } = 4;

    /// <summary>Cap on max_tokens; a request asking more is a 400.</summary>
    public int MaxTokensCap { get; init; } = 2048;

    /// <summary>max_tokens when a request gives none.</summary>
    public int DefaultMaxTokens { get; init; } = 256;

    /// <summary>Wall-clock limit per request, queueing included.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Hosts http(s) image URLs may name; empty: only data: URLs are accepted.</summary>
    public IReadOnlyList<string> AllowRemoteImageHosts { get; init; } = [];

    public TimeSpan RemoteImageTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Origins allowed by CORS; empty: no CORS headers at all.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = [];

    /// <summary>How long shutdown waits for in-flight requests.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public ServerOptions Validated()
    {
        if (Port is < 0 or > 65535) throw new FurnaceException($"--port {Port} must be between 0 and 65535");
        if (string.IsNullOrWhiteSpace(Host)) throw new FurnaceException("--host must not be empty");
        if (ApiKey is { Length: 0 }) throw new FurnaceException("--api-key must not be empty");
        if (MaxBodyBytes < 1024) throw new FurnaceException($"--max-body-bytes {MaxBodyBytes} must be at least 1024");
        if (MaxImageBytes < 1) throw new FurnaceException($"--max-image-bytes {MaxImageBytes} must be >= 1");
        if (MaxImagePixels < 1) throw new FurnaceException($"--max-image-pixels {MaxImagePixels} must be >= 1");
        if (MaxImages < 0) throw new FurnaceException($"--max-images {MaxImages} must be >= 0");
        if (MaxTokensCap < 1) throw new FurnaceException($"--max-tokens-cap {MaxTokensCap} must be >= 1");
        if (Timeout <= TimeSpan.Zero) throw new FurnaceException("--timeout must be positive");
        return this;
    }
}
