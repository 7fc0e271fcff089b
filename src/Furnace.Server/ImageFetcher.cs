// Turns an image_url into a decoded image under the server's limits: data: URLs (base64) always; http(s) URLs only
// for hosts on the --allow-remote-images list, fetched with a size and time limit, without a proxy, following at
// most three redirects by hand (each hop re-checked), and connecting only to addresses that AddressClassifier calls
// public — DNS is resolved in the connect callback and every address checked, so a name cannot rebind to a private
// address between the check and the connection.
using System.Net;
using System.Net.Sockets;
using Furnace.Formats.Images;

namespace Furnace.Server;

public sealed class ImageFetcher : IDisposable
{
    private const int MaxRedirects = 3;
    private readonly ServerOptions _options;
    private readonly ImageLoadOptions _load;
    private readonly HttpClient? _http;

    public ImageFetcher(ServerOptions options)
    {
        _options = options;
        _load = new ImageLoadOptions { MaxPixels = options.MaxImagePixels };
        if (options.AllowRemoteImageHosts.Count > 0)
        {
            var handler = new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseProxy = false,
                UseCookies = false,
                ConnectCallback = ConnectPublicAsync,
                PooledConnectionLifetime = TimeSpan.FromMinutes(1),
            };
            _http = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
            _http.DefaultRequestHeaders.UserAgent.ParseAdd("furnace-serve/0.1");
        }
    }

    public async Task<RgbImage> FetchAsync(string url, string param, CancellationToken cancellation)
    {
        if (DataUrl.IsDataUrl(url)) return DecodeDataUrl(url, param);
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            throw ApiException.BadRequest("image_url must be a data: URL (data:image/png;base64,...) or an http(s) URL", param, "invalid_image_url");
        if (_http == null)
            throw ApiException.BadRequest("remote image URLs are disabled on this server; send the image as a data: URL (base64), or start it with --allow-remote-images HOST", param, "remote_images_disabled");
        byte[] bytes = await DownloadAsync(uri, param, cancellation).ConfigureAwait(false);
        return Decode(bytes, param);
    }

    private RgbImage DecodeDataUrl(string url, string param)
    {
        int comma = url.IndexOf(',');
        // base64 carries 3 bytes in 4 characters: refuse an oversize payload before decoding it
        long approx = comma < 0 ? 0 : (url.Length - comma - 1) / 4L * 3;
        if (approx > _options.MaxImageBytes + 3)
            throw ApiException.BadRequest($"the image is about {approx:N0} bytes, more than the limit of {_options.MaxImageBytes:N0}", param, "image_too_large");
        byte[] bytes;
        try
        {
            bytes = DataUrl.Parse(url).Bytes;
        }
        catch (FurnaceException e)
        {
            throw ApiException.BadRequest(e.Message, param, "invalid_image_url");
        }
        return Decode(bytes, param);
    }

    private RgbImage Decode(byte[] bytes, string param)
    {
        if (bytes.Length > _options.MaxImageBytes)
            throw ApiException.BadRequest($"the image is {bytes.Length:N0} bytes, more than the limit of {_options.MaxImageBytes:N0}", param, "image_too_large");
        try
        {
            return ImageDecoder.Decode(bytes, param, _load);
        }
        catch (FurnaceException e)
        {
            throw ApiException.BadRequest(e.Message, param, "invalid_image");
        }
    }

    private async Task<byte[]> DownloadAsync(Uri uri, string param, CancellationToken cancellation)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        timeout.CancelAfter(_options.RemoteImageTimeout);
        try
        {
            for (int hop = 0; ; hop++)
            {
                CheckHost(uri, param);
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                using HttpResponseMessage response = await _http!.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                if (status is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    if (hop >= MaxRedirects) throw ApiException.BadRequest($"fetching the image_url took more than {MaxRedirects} redirects", param, "image_fetch_failed");
                    uri = location.IsAbsoluteUri ? location : new Uri(uri, location);
                    if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
                        throw ApiException.BadRequest("the image_url redirected to a non-http(s) URL", param, "image_fetch_failed");
                    continue;
                }
                if (status is < 200 or >= 300)
                    throw ApiException.BadRequest($"fetching the image_url gave HTTP {status}", param, "image_fetch_failed");
                if (response.Content.Headers.ContentLength is long length && length > _options.MaxImageBytes)
                    throw ApiException.BadRequest($"the image is {length:N0} bytes, more than the limit of {_options.MaxImageBytes:N0}", param, "image_too_large");
                await using Stream body = await response.Content.ReadAsStreamAsync(timeout.Token).ConfigureAwait(false);
                return await ReadLimitedAsync(body, param, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellation.IsCancellationRequested)
        {
            throw ApiException.BadRequest($"fetching the image_url took longer than {_options.RemoteImageTimeout.TotalSeconds:0.#} s", param, "image_fetch_timeout");
        }
        catch (HttpRequestException e) when (e.InnerException is BlockedAddressException blocked)
        {
            throw ApiException.BadRequest(blocked.Message, param, "image_url_blocked");
        }
        catch (HttpRequestException e)
        {
            throw ApiException.BadRequest($"fetching the image_url failed ({e.Message})", param, "image_fetch_failed");
        }
    }

    private async Task<byte[]> ReadLimitedAsync(Stream body, string param, CancellationToken cancellation)
    {
        using var ms = new MemoryStream();
        var buffer = new byte[81920];
        int n;
        while ((n = await body.ReadAsync(buffer, cancellation).ConfigureAwait(false)) > 0)
        {
            if (ms.Length + n > _options.MaxImageBytes)
                throw ApiException.BadRequest($"the image is more than the limit of {_options.MaxImageBytes:N0} bytes", param, "image_too_large");
            ms.Write(buffer, 0, n);
        }
        return ms.ToArray();
    }

    private void CheckHost(Uri uri, string param)
    {
        if (!string.IsNullOrEmpty(uri.UserInfo)) throw ApiException.BadRequest("image_url must not carry credentials", param, "invalid_image_url");
        if (!IsAllowedHost(uri.IdnHost, _options.AllowRemoteImageHosts))
            throw ApiException.BadRequest($"image host '{uri.Host}' is not on this server's --allow-remote-images list", param, "image_host_not_allowed");
    }

    /// <summary>Exact host names, or "*.example.com" for its subdomains; case-insensitive.</summary>
    public static bool IsAllowedHost(string host, IReadOnlyList<string> allowed)
    {
        foreach (string entry in allowed)
        {
            if (entry.StartsWith("*.", StringComparison.Ordinal))
            {
                if (host.EndsWith(entry[1..], StringComparison.OrdinalIgnoreCase) && host.Length > entry.Length - 1) return true;
            }
            else if (string.Equals(host, entry, StringComparison.OrdinalIgnoreCase)) return true;
        }
        return false;
    }

    // resolve, check every address, then connect to the checked addresses only
    private static async ValueTask<Stream> ConnectPublicAsync(SocketsHttpConnectionContext context, CancellationToken cancellation)
    {
        string host = context.DnsEndPoint.Host;
        IPAddress[] addresses = IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellation).ConfigureAwait(false);
        if (addresses.Length == 0) throw new BlockedAddressException($"image host '{host}' has no addresses");
        foreach (IPAddress a in addresses)
        {
            if (!AddressClassifier.IsPublic(a))
                throw new BlockedAddressException($"image host '{host}' resolves to {a}, a private, loopback or otherwise non-public address; refused");
        }
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellation).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose() => _http?.Dispose();

    private sealed class BlockedAddressException(string message) : Exception(message);
}
