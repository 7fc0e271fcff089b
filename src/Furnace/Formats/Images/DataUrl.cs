// RFC 2397 data URLs carrying an image: "data:image/png;base64,iVBOR…". Only base64 payloads of the
// image media types ImageDecoder reads are accepted.
namespace Furnace.Formats.Images;

public static class DataUrl
{
    private static readonly string[] MediaTypes = ["image/jpeg", "image/jpg", "image/png", "image/webp", "image/gif", "image/bmp", "image/x-ms-bmp"];

    public static bool IsDataUrl(string text) => text.StartsWith("data:", StringComparison.OrdinalIgnoreCase);

    /// <summary>The media type (lower case) and the decoded bytes.</summary>
    public static (string MediaType, byte[] Bytes) Parse(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        string shown = url.Length > 40 ? url[..40] + "…" : url;
        if (!IsDataUrl(url)) throw new FurnaceFormatException(shown, "not a data: URL");
        int comma = url.IndexOf(',');
        if (comma < 0) throw new FurnaceFormatException(shown, "data URL has no ',' before its payload");
        string[] header = url[5..comma].Split(';');
        string mediaType = header[0].Trim().ToLowerInvariant();
        if (!MediaTypes.Contains(mediaType))
            throw new FurnaceFormatException(shown, $"data URL media type '{header[0]}' is not an image type Furnace reads ({string.Join(", ", MediaTypes)})");
        if (!header.Skip(1).Any(p => p.Trim().Equals("base64", StringComparison.OrdinalIgnoreCase)))
            throw new FurnaceFormatException(shown, "data URL is not base64-encoded (';base64' missing)");
        byte[] bytes;
        try
        {
            bytes = Convert.FromBase64String(url[(comma + 1)..]);
        }
        catch (FormatException)
        {
            throw new FurnaceFormatException(shown, "data URL payload is not valid base64");
        }
        return (mediaType, bytes);
    }
}
