// Reads DeepSeek-VL2's JSON files into their raw records, with one-line errors naming the file and the JSON path.
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Furnace.Models.DeepSeekVl2;

internal static class DeepSeekVl2Json
{
    public static T Read<T>(string path, JsonTypeInfo<T> type)
    {
        byte[] json;
        try
        {
            json = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FurnaceException($"{path}: file not found");
        }
        return Parse(json, path, type);
    }

    public static T Parse<T>(ReadOnlySpan<byte> json, string source, JsonTypeInfo<T> type)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new FurnaceFormatException(source, "is 'null', not a JSON object");
        }
        catch (JsonException e)
        {
            string where = string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "" : $" at {e.Path[2..]}";
            int dot = e.Message.IndexOf(". ", StringComparison.Ordinal);
            throw new FurnaceFormatException(source, $"not a valid DeepSeek-VL2 file{where} ({(dot > 0 ? e.Message[..dot] : e.Message.TrimEnd('.'))})");
        }
    }

    /// <summary>candidate_resolutions as (width, height) pairs: non-empty, positive, each a whole number of
    /// tiles of the first entry's width (the processor's image_size).</summary>
    public static (int Width, int Height)[] Resolutions(int[][]? raw, string source, string key)
    {
        if (raw is not { Length: > 0 }) throw new FurnaceException($"{source}: '{key}' must list at least one [width, height] pair");
        var r = new (int, int)[raw.Length];
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] is not [int w, int h] || w <= 0 || h <= 0)
                throw new FurnaceException($"{source}: '{key}[{i}]' must be a [width, height] pair of positive integers");
            r[i] = (w, h);
        }
        int tile = r[0].Item1;
        for (int i = 0; i < r.Length; i++)
        {
            if (r[i].Item1 % tile != 0 || r[i].Item2 % tile != 0)
                throw new FurnaceException($"{source}: '{key}[{i}]' [{r[i].Item1}, {r[i].Item2}] is not a whole number of {tile}-pixel tiles (the first entry's width)");
        }
        return r;
    }
}
