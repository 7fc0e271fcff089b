// Reads ImageSizeJson from either an integer or an object (unknown keys are skipped); writes the object form.
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Furnace.Formats.Images;

public sealed class ImageSizeJsonConverter : JsonConverter<ImageSizeJson>
{
    public override ImageSizeJson? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.Null:
                return null;
            case JsonTokenType.Number:
                return new ImageSizeJson { Bare = reader.GetInt32() };
            case JsonTokenType.StartArray:
                // transformers accepts (height, width) tuples too
                var list = new List<int>();
                while (reader.Read() && reader.TokenType != JsonTokenType.EndArray) list.Add(reader.GetInt32());
                return list.Count switch
                {
                    1 => new ImageSizeJson { Bare = list[0] },
                    2 => new ImageSizeJson { Height = list[0], Width = list[1] },
                    _ => throw new JsonException($"a size list has 1 or 2 entries, not {list.Count}"),
                };
            case JsonTokenType.StartObject:
                int? shortest = null, longest = null, height = null, width = null;
                while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
                {
                    string key = reader.GetString()!;
                    reader.Read();
                    int? v = reader.TokenType == JsonTokenType.Null ? null : reader.GetInt32();
                    switch (key)
                    {
                        case "shortest_edge": shortest = v; break;
                        case "longest_edge": longest = v; break;
                        case "height": height = v; break;
                        case "width": width = v; break;
                        default: reader.Skip(); break;
                    }
                }
                return new ImageSizeJson { ShortestEdge = shortest, LongestEdge = longest, Height = height, Width = width };
            default:
                throw new JsonException("expected an integer or an object with shortest_edge or height and width");
        }
    }

    public override void Write(Utf8JsonWriter writer, ImageSizeJson value, JsonSerializerOptions options)
    {
        if (value.Bare is int bare)
        {
            writer.WriteNumberValue(bare);
            return;
        }
        writer.WriteStartObject();
        if (value.ShortestEdge is int s) writer.WriteNumber("shortest_edge", s);
        if (value.LongestEdge is int l) writer.WriteNumber("longest_edge", l);
        if (value.Height is int h) writer.WriteNumber("height", h);
        if (value.Width is int w) writer.WriteNumber("width", w);
        writer.WriteEndObject();
    }
}
