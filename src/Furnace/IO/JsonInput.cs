// Reading user-supplied JSON (datasets, predictions, reports) into source-generated records, with one-line
// errors that name the file, the line and the JSON path of the bad entry.
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Furnace.IO;

internal static class JsonInput
{
    public static byte[] ReadAllBytes(string path)
    {
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FurnaceException($"{path}: file not found");
        }
    }

    public static T Read<T>(string path, JsonTypeInfo<T> info) => Parse(ReadAllBytes(path), info, path);

    public static T Parse<T>(ReadOnlySpan<byte> json, JsonTypeInfo<T> info, string source)
    {
        try
        {
            return JsonSerializer.Deserialize(json, info) ?? throw new FurnaceFormatException(source, "is 'null'");
        }
        catch (JsonException e)
        {
            throw new FurnaceFormatException(source, Describe(e));
        }
    }

    /// <summary>"malformed JSON at line 3, annotations[2].caption: The JSON value could not be converted ...".</summary>
    public static string Describe(JsonException e, bool withLine = true)
    {
        string line = withLine && e.LineNumber is long l ? $" at line {l + 1}" : "";
        string where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" ({e.Path.TrimStart('$').TrimStart('.')})";
        return $"malformed JSON{line}{where}: {FirstSentence(e.Message)}";
    }

    /// <summary>The first significant character of a JSON document ('{', '[', ...), past a BOM and whitespace; 0 if none.</summary>
    public static char FirstChar(ReadOnlySpan<byte> json)
    {
        if (json.StartsWith("\uFEFF"u8)) json = json[3..];
        foreach (byte b in json)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            return (char)b;
        }
        return '\0';
    }

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(". ", StringComparison.Ordinal);
        return i > 0 ? message[..i] : message.TrimEnd('.');
    }
}
